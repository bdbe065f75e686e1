import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { TwinError } from '../core/errors.ts';
import type { KubeObject } from '../kube/object.ts';
import { type LoadedAddon, loadAddons } from './addons/addons-file.ts';
import {
  displayPath,
  maxReplicasFromEnv,
  type RenderedObject,
  renderKustomization,
  validateObjects,
} from './render/index.ts';
import { REPO_ROOT } from './repo-root.ts';
import { loadTopology, type Topology } from './topology/topology.ts';
import { TwinBindings } from './twin-bindings.ts';

export { REPO_ROOT };

/** Where one system's definitions are: infra/<system>/ or a directory laid out the same way. */
export interface SystemLayout {
  /** The name the user gave (a name under infra/ or a directory). */
  name: string;
  dir: string;
  /** The repository root that bindings' entries and workload builds are relative to. */
  root: string;
  topologyFile: string;
  bindingsFile: string;
  /** addons.yaml: the platform add-ons the system's cluster has, pinned (optional: none without it). */
  addonsFile: string;
  /** terraform/environments/local when it has a main.tf (the AWS data plane applied locally). */
  localTerraformDir: string | undefined;
  overlayDir(overlay: string): string;
  hasOverlay(overlay: string): boolean;
}

/** A system read and checked: the rendered overlay, its topology and its twin bindings. */
export interface LoadedSystem {
  layout: SystemLayout;
  overlay: string;
  rendered: RenderedObject[];
  topology: Topology;
  bindings: TwinBindings;
  /** The add-ons of addons.yaml, each with the CRDs it installs. */
  addons: LoadedAddon[];
  /** Every add-on's CRDs, in list order: installed before any object of the manifests. */
  addonCrds: KubeObject[];
}

/**
 * infra/<system>/ under the root, or a directory path (one with a slash) laid out the same way:
 * k8s/overlays/, topology.yaml and twin-bindings.yaml.
 */
export async function resolveSystem(system: string, root = REPO_ROOT): Promise<SystemLayout> {
  const dir =
    system.includes('/') || system.includes(path.sep)
      ? path.resolve(system)
      : path.join(root, 'infra', system);
  const shown = path.relative(process.cwd(), dir) || dir;
  const needs = ['k8s/overlays', 'topology.yaml', 'twin-bindings.yaml'];
  const missing = needs.filter((p) => !existsSync(path.join(dir, p)));
  if (missing.length === needs.length) {
    const known = (await readdir(path.join(root, 'infra'), { withFileTypes: true }).catch(() => []))
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--system: no system at ${shown} (it needs ${needs.join(', ')}); known systems: ${known.join(', ')}`,
    );
  }
  if (missing.length > 0)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--system: ${shown} lacks ${missing.map((m) => path.join(shown, m)).join(' and ')} (a system needs ${needs.join(', ')})`,
    );
  const overlayDir = (overlay: string) => path.join(dir, 'k8s', 'overlays', overlay);
  const tf = path.join(dir, 'terraform', 'environments', 'local');
  return {
    name: system,
    dir,
    root,
    topologyFile: path.join(dir, 'topology.yaml'),
    bindingsFile: path.join(dir, 'twin-bindings.yaml'),
    addonsFile: path.join(dir, 'addons.yaml'),
    localTerraformDir: existsSync(path.join(tf, 'main.tf')) ? tf : undefined,
    overlayDir,
    hasOverlay: (overlay) => existsSync(overlayDir(overlay)),
  };
}

/**
 * Renders and validates the overlay (every object as the API server of a cluster with the system's
 * add-ons would take it, see system/render/manifest-validation.ts) and reads the add-ons, topology and
 * bindings; nothing is started.
 */
export async function loadSystem(
  layout: SystemLayout,
  overlay: string,
  progress: (message: string) => void = () => {},
): Promise<LoadedSystem> {
  if (!layout.hasOverlay(overlay)) {
    const overlays = (await readdir(path.join(layout.dir, 'k8s', 'overlays'), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--overlay: ${displayPath(layout.overlayDir(overlay), process.cwd())} does not exist (overlays of ${layout.name}: ${overlays.join(', ')})`,
    );
  }
  progress(`rendering ${path.relative(layout.root, layout.overlayDir(overlay))}`);
  const addonsShown = displayPath(layout.addonsFile, layout.root);
  const addons = await loadAddons(layout.addonsFile, addonsShown);
  const rendered = await renderKustomization(layout.overlayDir(overlay), { cwd: layout.root });
  validateObjects(rendered, {
    addons,
    addonsFile: addonsShown,
    cwd: layout.root,
    maxReplicas: maxReplicasFromEnv(),
  });
  checkAddonControllers(addons, rendered, addonsShown);
  const topology = await loadTopology(displayPath(layout.topologyFile, process.cwd()));
  const bindings = await TwinBindings.load(displayPath(layout.bindingsFile, process.cwd()), layout.root);
  return { layout, overlay, rendered, topology, bindings, addons, addonCrds: addons.flatMap((a) => a.crds) };
}

/**
 * An add-on whose controller the system's manifests deploy (controller: manifests) must be deployed
 * there at the version the list pins: the CRDs installed and the controller running must agree.
 */
function checkAddonControllers(addons: LoadedAddon[], rendered: RenderedObject[], file: string): void {
  for (const a of addons) {
    if (a.controller !== 'manifests') continue;
    const images = rendered.flatMap(({ object }) => {
      const spec = object.spec?.template?.spec;
      return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]
        .map((c: { image?: unknown }) => c.image)
        .filter((i: unknown): i is string => typeof i === 'string');
    });
    const ours = images.filter((i) => a.entry.controllerImages.some((repo) => i.startsWith(`${repo}:`)));
    if (ours.length === 0)
      throw new TwinError(
        'TWIN_MANIFEST_INVALID',
        `${file}: ${a.name}: controller: manifests, but no workload of the manifests runs ${a.entry.controllerImages.join(' or ')}; use controller: addon to install it`,
      );
    const wrong = ours.filter((i) => i.slice(i.lastIndexOf(':') + 1) !== a.version);
    if (wrong.length > 0)
      throw new TwinError(
        'TWIN_MANIFEST_INVALID',
        `${file}: ${a.name}: version ${a.version}, but the manifests deploy ${[...new Set(wrong)].join(', ')}; pin the same release in both`,
      );
  }
}
