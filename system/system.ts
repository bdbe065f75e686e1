import { existsSync, readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { TwinError } from '../core/errors.ts';
import type { KubeObject } from '../kube/object.ts';
import { type LoadedAddon, loadAddons } from './addons/addons-file.ts';
import { manifestControllerProblems } from './addons/manifest-controllers.ts';
import { type ClusterProfile, DEFAULT_PROFILE, type LeftOutAddon } from './profiles/profile-registry.ts';
import { loadProject, type ProjectSystem, projectRoot } from './project.ts';
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
  /** The overlays under k8s/overlays/, by name. */
  overlays(): string[];
}

/** A system read and checked: the rendered overlay, its topology and its twin bindings. */
export interface LoadedSystem {
  layout: SystemLayout;
  overlay: string;
  rendered: RenderedObject[];
  topology: Topology;
  bindings: TwinBindings;
  /** The add-ons of addons.yaml that the profile's cluster installs, each with the CRDs it installs. */
  addons: LoadedAddon[];
  /** Every add-on's CRDs, in list order: installed before any object of the manifests. */
  addonCrds: KubeObject[];
  /** The kind of cluster it was loaded for (system/profiles). */
  profile: ClusterProfile;
  /** The add-ons of addons.yaml that the profile's cluster does not install, and why. */
  leftOutAddons: LeftOutAddon[];
}

/**
 * A system named in the repository's twin.yaml (docs/own-system.md), infra/<system>/ under the root,
 * or a directory path (one with a slash) laid out like infra/<system>/: k8s/overlays/, topology.yaml
 * and twin-bindings.yaml. The root is the user's repository (system/project.ts), not this package.
 */
export async function resolveSystem(system: string, root = projectRoot()): Promise<SystemLayout> {
  const configured = loadProject(root)?.systems.find((s) => s.name === system);
  if (configured) return projectSystemLayout(configured, root);
  const dir =
    system.includes('/') || system.includes(path.sep)
      ? path.resolve(system)
      : path.join(root, 'infra', system);
  const shown = path.relative(process.cwd(), dir) || dir;
  const needs = ['k8s/overlays', 'topology.yaml', 'twin-bindings.yaml'];
  const missing = needs.filter((p) => !existsSync(path.join(dir, p)));
  if (missing.length === needs.length) {
    const known = [
      ...(loadProject(root)?.systems.map((s) => s.name) ?? []),
      ...(await readdir(path.join(root, 'infra'), { withFileTypes: true }).catch(() => []))
        .filter((d) => d.isDirectory())
        .map((d) => d.name),
    ];
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--system: no system at ${shown} (it needs ${needs.join(', ')}); known systems: ${known.join(', ') || 'none'} (\`twin init <kustomize-dir>\` adds one to twin.yaml)`,
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
    overlays: () =>
      readdirSync(path.join(dir, 'k8s', 'overlays'), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort(),
  };
}

/** A system of twin.yaml: its files in `dir`, its overlays wherever the repository keeps them. */
function projectSystemLayout(system: ProjectSystem, root: string): SystemLayout {
  const dir = path.resolve(root, system.dir);
  for (const file of ['topology.yaml', 'twin-bindings.yaml'])
    if (!existsSync(path.join(dir, file)))
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `twin.yaml: system ${system.name}: ${path.relative(process.cwd(), path.join(dir, file)) || file} does not exist (\`twin init\` writes it)`,
      );
  const overlayDir = (overlay: string) =>
    system.overlays[overlay] !== undefined
      ? path.resolve(root, system.overlays[overlay])
      : path.join(root, '.twin', 'no-such-overlay', overlay);
  const tf = path.join(dir, 'terraform', 'environments', 'local');
  return {
    name: system.name,
    dir,
    root,
    topologyFile: path.join(dir, 'topology.yaml'),
    bindingsFile: path.join(dir, 'twin-bindings.yaml'),
    addonsFile: path.join(dir, 'addons.yaml'),
    localTerraformDir: existsSync(path.join(tf, 'main.tf')) ? tf : undefined,
    overlayDir,
    hasOverlay: (overlay) => system.overlays[overlay] !== undefined && existsSync(overlayDir(overlay)),
    overlays: () => Object.keys(system.overlays).sort(),
  };
}

/**
 * Renders and validates the overlay (every object as the API server of a cluster of the profile, with
 * the add-ons it installs from the system's list, would take it, see
 * system/render/manifest-validation.ts) and reads the add-ons, topology and bindings; nothing is
 * started. `twin check` (system/check) reports every problem instead of the first.
 */
export async function loadSystem(
  layout: SystemLayout,
  overlay: string,
  progress: (message: string) => void = () => {},
  profile: ClusterProfile = DEFAULT_PROFILE,
): Promise<LoadedSystem> {
  if (!layout.hasOverlay(overlay)) {
    const overlays = layout.overlays();
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--overlay: ${displayPath(layout.overlayDir(overlay), process.cwd())} does not exist (overlays of ${layout.name}: ${overlays.join(', ')})`,
    );
  }
  progress(`rendering ${path.relative(layout.root, layout.overlayDir(overlay))}`);
  const addonsShown = displayPath(layout.addonsFile, layout.root);
  const { installed: addons, leftOut: leftOutAddons } = profile.addons(
    await loadAddons(layout.addonsFile, addonsShown),
  );
  const rendered = await renderKustomization(layout.overlayDir(overlay), { cwd: layout.root });
  validateObjects(rendered, {
    addons,
    addonsFile: addonsShown,
    cwd: layout.root,
    maxReplicas: maxReplicasFromEnv(),
  });
  const [controllerProblem] = manifestControllerProblems(addons, rendered);
  if (controllerProblem)
    throw new TwinError('TWIN_MANIFEST_INVALID', `${addonsShown}: ${controllerProblem.message}`);
  const topology = await loadTopology(displayPath(layout.topologyFile, process.cwd()));
  const bindings = await TwinBindings.load(displayPath(layout.bindingsFile, process.cwd()), layout.root);
  return {
    layout,
    overlay,
    rendered,
    topology,
    bindings,
    addons,
    addonCrds: addons.flatMap((a) => a.crds),
    profile,
    leftOutAddons,
  };
}
