import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { TwinError } from '../../core/errors.ts';
import type { KubeObject } from '../../kube/object.ts';
import { parseYamlDocuments } from '../render/manifest-yaml.ts';
import {
  ADDON_CATALOGUE,
  type AddonEntry,
  type AddonRelease,
  catalogueEntry,
  crdDir,
} from './addon-catalogue.ts';
import { readAddonCrds } from './addon-crds.ts';

/** One platform add-on of a system, at its pinned release, with the CRDs it installs. */
export interface LoadedAddon {
  name: string;
  title: string;
  version: string;
  /** `addon`: the add-on's own install brings its controller; `manifests`: the system's manifests deploy it. */
  controller: 'addon' | 'manifests';
  release: AddonRelease;
  entry: AddonEntry;
  crds: KubeObject[];
  /** Helm values (`--set key=value`) the system gives a Helm-installed add-on (e.g. the cluster's name). */
  values?: Record<string, string>;
  /** Its position in addons.yaml (`addons[index]`), for messages that name the line. */
  index?: number;
}

const AddonsFile = z
  .object({
    apiVersion: z.literal('twin.dev/v1alpha1'),
    kind: z.literal('Addons'),
    metadata: z.object({ name: z.string() }).optional(),
    addons: z.array(
      z
        .object({
          name: z.string(),
          version: z.string(),
          controller: z.enum(['addon', 'manifests']).default('addon'),
          values: z.record(z.string(), z.string()).optional(),
        })
        .strict(),
    ),
  })
  .strict();

const crdCache = new Map<string, KubeObject[]>();

/**
 * Reads infra/<system>/addons.yaml: the add-ons a system's cluster has installed, each pinned to a
 * release of the catalogue (system/addons). A system without the file has none: every custom resource
 * it writes is then of an add-on that is not installed.
 */
export async function loadAddons(file: string, shown = file): Promise<LoadedAddon[]> {
  if (!existsSync(file)) return [];
  const [doc] = parseYamlDocuments(await readFile(file, 'utf8'), shown);
  const parsed = AddonsFile.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.join('.');
    throw new TwinError('TWIN_MANIFEST_INVALID', `${shown}: ${at ? `${at}: ` : ''}${issue.message}`);
  }
  const out: LoadedAddon[] = [];
  const seen = new Set<string>();
  parsed.data.addons.forEach((a, i) => {
    const at = `${shown}: addons[${i}]`;
    const entry = catalogueEntry(a.name);
    if (!entry)
      throw new TwinError(
        'TWIN_MANIFEST_INVALID',
        `${at}.name: ${JSON.stringify(a.name)} is not in the add-on catalogue (system/addons: ${ADDON_CATALOGUE.map((e) => e.name).join(', ')})`,
      );
    if (seen.has(a.name))
      throw new TwinError('TWIN_MANIFEST_INVALID', `${at}.name: ${a.name} is listed twice`);
    seen.add(a.name);
    const release = entry.releases[a.version];
    if (!release)
      throw new TwinError(
        'TWIN_MANIFEST_INVALID',
        `${at}.version: ${entry.title} ${a.version} is not catalogued (catalogued: ${Object.keys(entry.releases).join(', ')}); add its CRDs under system/addons/${a.name}/${a.version}/`,
      );
    if (a.controller === 'manifests' && !release.crdsOnly)
      throw new TwinError(
        'TWIN_MANIFEST_INVALID',
        `${at}.controller: ${entry.title} ${a.version} has no CRDs-only install in the catalogue; use controller: addon`,
      );
    if (a.values && (a.controller !== 'addon' || release.install.kind !== 'helm'))
      throw new TwinError(
        'TWIN_MANIFEST_INVALID',
        `${at}.values: only an add-on installed from its Helm chart (controller: addon) takes values; ${entry.title} ${a.version} is ${a.controller === 'addon' ? `installed from ${release.install.kind === 'manifest' ? 'its release manifest' : 'its chart'}` : 'deployed by the manifests'}`,
      );
    out.push({
      ...catalogueAddon(a.name, a.version, a.controller),
      ...(a.values ? { values: a.values } : {}),
      index: i,
    });
  });
  return out;
}

/** A catalogued add-on release with its CRDs (what one line of addons.yaml loads). */
export function catalogueAddon(
  name: string,
  version: string,
  controller: 'addon' | 'manifests' = 'addon',
): LoadedAddon {
  const entry = catalogueEntry(name);
  const release = entry?.releases[version];
  if (!entry || !release)
    throw new TwinError('TWIN_INVALID', `${name} ${version} is not in the add-on catalogue`);
  const key = `${name}@${version}`;
  let crds = crdCache.get(key);
  if (!crds) {
    crds = readAddonCrds(crdDir(name, version));
    crdCache.set(key, crds);
  }
  return {
    name,
    title: entry.title,
    version,
    controller,
    release,
    entry,
    crds: crds.map((c) => structuredClone(c)),
  };
}

/** "Argo Rollouts v1.8.3" */
export function addonLabel(a: LoadedAddon): string {
  return `${a.title} ${a.version}`;
}
