import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../kube/object.ts';

export const SYSTEM_DIR = fileURLToPath(new URL('../../infra/ai-platform/', import.meta.url));

export function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function parseObjects(text: string, source: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]!.message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null);
}

/** `kubectl kustomize` of an overlay under infra/ai-platform/k8s/overlays. */
export function renderOverlay(overlay: string): { text: string; objects: KubeObject[] } {
  const dir = join(SYSTEM_DIR, 'k8s/overlays', overlay);
  const text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  return { text, objects: parseObjects(text, dir) };
}

/** The base's objects read straight from its files: it has no transformers, so this is what it renders to. */
export function readBase(): KubeObject[] {
  const base = join(SYSTEM_DIR, 'k8s/base');
  const kustomization = parse(readFileSync(join(base, 'kustomization.yaml'), 'utf8')) as {
    resources: string[];
  };
  return kustomization.resources.flatMap((file) => {
    const path = join(base, file);
    return parseObjects(readFileSync(path, 'utf8'), path);
  });
}

export function find(
  objects: KubeObject[],
  kind: string,
  namespace: string | undefined,
  name: string,
): KubeObject {
  const found = objects.find(
    (o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace,
  );
  if (!found) throw new Error(`${kind} ${namespace ?? ''}/${name} not rendered`);
  return found;
}

/** The pod template of a workload object, whatever its kind. */
export function podTemplateOf(o: KubeObject): { metadata: any; spec: any } | undefined {
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template;
  return o.spec?.template;
}
