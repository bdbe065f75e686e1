import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';
import { TwinError } from '../../core/errors.ts';
import { interruption } from '../../core/interrupt.ts';
import { processRuns } from '../../core/process.ts';
import type { KubeObject } from '../../kube/object.ts';
import { checkKustomizationTree, KUSTOMIZATION_FILES, kustomizationFile } from './kustomization-tree.ts';
import { findKustomizeTool } from './kustomize-tool.ts';
import { parseYamlDocuments, toKubeObjects } from './manifest-yaml.ts';
import { displayPath, type RenderedObject } from './rendered-object.ts';

export const ORIGIN_ANNOTATION = 'config.kubernetes.io/origin';

export interface RenderOptions {
  /** Paths in messages and sources are relative to this directory (default: process.cwd()). */
  cwd?: string;
  /** PATH-style list searched for kubectl/kustomize (default: $PATH). */
  searchPath?: string;
}

/**
 * Renders a kustomization directory (a base or an overlay) into objects, each with the file that
 * defined it. The build runs through a temporary wrapper kustomization that turns on origin
 * annotations, so every object says where it came from; the annotation is removed again so the
 * objects are exactly what the user wrote.
 */
export async function renderKustomization(
  dir: string,
  options: RenderOptions = {},
): Promise<RenderedObject[]> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const abs = path.resolve(cwd, dir);
  const shown = displayPath(abs, cwd);
  if (!(await kustomizationFile(abs))) {
    throw new TwinError(
      'TWIN_KUSTOMIZE_FAILED',
      `${shown}: no ${KUSTOMIZATION_FILES.join(', ')} found; point at a kustomize base or overlay directory`,
    );
  }
  await checkKustomizationTree(abs, cwd);
  const tool = await findKustomizeTool(options.searchPath);
  if (!tool) {
    throw new TwinError(
      'TWIN_KUSTOMIZE_NOT_FOUND',
      `rendering ${shown} needs kustomize: install kubectl (it bundles kustomize as \`kubectl kustomize\`) or the kustomize binary, and put it on the PATH`,
    );
  }
  await removeStaleWrappers();
  const wrapper = await mkdtemp(path.join(tmpdir(), `${WRAPPER_PREFIX}${process.pid}-`));
  try {
    const relative = path.relative(wrapper, abs).split(path.sep).join('/');
    await writeFile(
      path.join(wrapper, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${JSON.stringify(relative)}\nbuildMetadata: [originAnnotations]\n`,
    );
    const result = await execa(
      tool.command,
      [...tool.args, '--load-restrictor', 'LoadRestrictionsNone', wrapper],
      {
        reject: false,
        stripFinalNewline: true,
        // Ctrl-C while rendering ends kustomize too (core/interrupt.ts).
        cancelSignal: interruption(),
      },
    );
    if (result.isCanceled)
      throw new TwinError('TWIN_ABORTED', `rendering ${shown} was interrupted`, {
        cause: interruption().reason,
      });
    if (result.exitCode !== 0 || result.failed) {
      const stderr = cleanStderr(String(result.stderr ?? ''))
        .replaceAll(`${wrapper}${path.sep}`, '')
        .replaceAll(wrapper, '.');
      throw new TwinError(
        'TWIN_KUSTOMIZE_FAILED',
        `${shown}: ${[tool.command, ...tool.args].map((a) => path.basename(a)).join(' ')} failed: ${stderr || result.shortMessage}`,
      );
    }
    const objects = toKubeObjects(parseYamlDocuments(String(result.stdout), `${shown} (rendered)`), shown);
    return objects.map((object) => ({ object, source: takeOrigin(object, wrapper, cwd) ?? shown }));
  } finally {
    await rm(wrapper, { recursive: true, force: true });
  }
}

/** Wrapper directories are named after the process, so one a killed process left can be told apart. */
const WRAPPER_PREFIX = 'twin-kustomize-';

/** Removes the wrapper directories of processes that are gone (a render killed with SIGKILL). */
async function removeStaleWrappers(): Promise<void> {
  const entries = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of entries) {
    const m = new RegExp(`^${WRAPPER_PREFIX}(\\d+)-`).exec(name);
    if (m && !processRuns(Number(m[1])))
      await rm(path.join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** Reads and removes the origin annotation; returns the defining file relative to cwd. */
function takeOrigin(object: KubeObject, wrapper: string, cwd: string): string | undefined {
  const annotations = object.metadata?.annotations;
  const raw = annotations?.[ORIGIN_ANNOTATION];
  if (!annotations || raw === undefined) return undefined;
  delete annotations[ORIGIN_ANNOTATION];
  if (Object.keys(annotations).length === 0) delete object.metadata.annotations;
  let origin: { path?: unknown; repo?: unknown; configuredIn?: unknown };
  try {
    origin = parseYaml(raw) ?? {};
  } catch {
    return undefined;
  }
  const file = typeof origin.path === 'string' ? origin.path : origin.configuredIn;
  if (typeof file !== 'string') return undefined;
  if (typeof origin.repo === 'string') return `${origin.repo}/${file}`;
  return displayPath(path.resolve(wrapper, file), cwd);
}

/** kubectl logs through klog (`E0101 12:00:00.000000 1 run.go:72] "command failed" err="…"`): keep the err. */
function cleanStderr(stderr: string): string {
  return stderr
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^[IWEF]\d{4} [\d:.]+\s+\d+ \S+\] "command failed" err="(.*)"$/.exec(line.trim());
      return m ? m[1]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\') : line.replace(/^Error: /, '');
    })
    .join('\n')
    .replace(WRAPPER_NOISE, '')
    .trim();
}

// how kustomize words "the wrapper's one resource failed"; the user's error follows it
const WRAPPER_NOISE =
  /accumulating resources: accumulation err='accumulating resources from '[^']*': read [^']*: is a directory': recursed accumulation of path '[^']*': /;
