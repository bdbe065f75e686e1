import { isTwinError } from '../../core/errors.ts';
import { describeObject, type KubeObject } from '../../kube/object.ts';
import { type LoadedAddon, loadAddons } from '../addons/addons-file.ts';
import type { ClusterProfile, LeftOutAddon } from '../profiles/profile-registry.ts';
import { displayPath, type RenderedObject, renderKustomization, SourceLines } from '../render/index.ts';
import { kustomizationFile } from '../render/kustomization-tree.ts';
import type { SystemLayout } from '../system.ts';
import { loadTopology, type Topology } from '../topology/topology.ts';
import { TwinBindings } from '../twin-bindings.ts';
import type { Finding } from './finding.ts';

/** Where a finding points: a file relative to the repository root, and a line when known. */
export interface Location {
  source: string;
  line?: number;
}

/** Everything a check reads: the rendered overlay and what the profile's cluster has. Nothing runs. */
export interface CheckContext {
  layout: SystemLayout;
  overlay: string;
  profile: ClusterProfile;
  rendered: RenderedObject[];
  objects: KubeObject[];
  /** The add-ons of addons.yaml that the profile's cluster installs. */
  addons: LoadedAddon[];
  leftOutAddons: LeftOutAddon[];
  /** addons.yaml as messages show it. */
  addonsFile: string;
  /** Undefined when topology.yaml did not load (that is a finding of its own). */
  topology: Topology | undefined;
  bindings: TwinBindings | undefined;
  /** The file and line of a field of a rendered object. */
  at(r: RenderedObject, field?: string): Location;
  /** The line of an add-on's entry (or one of its fields) in addons.yaml. */
  atAddon(a: LoadedAddon, field?: string): Location;
}

/**
 * Reads a system for `twin check`: renders the overlay, reads addons.yaml, topology.yaml and
 * twin-bindings.yaml. A file that does not load is a finding and the checks that need it are left
 * out; only an overlay that does not render stops everything (there is nothing to check).
 */
export async function loadForCheck(
  layout: SystemLayout,
  overlay: string,
  profile: ClusterProfile,
): Promise<{ ctx?: CheckContext; findings: Finding[] }> {
  const root = layout.root;
  const findings: Finding[] = [];
  const overlayDir = layout.overlayDir(overlay);
  let rendered: RenderedObject[];
  try {
    rendered = await renderKustomization(overlayDir, { cwd: root });
  } catch (err) {
    if (!isTwinError(err) || err.code === 'TWIN_KUSTOMIZE_NOT_FOUND') throw err;
    const file = (await kustomizationFile(overlayDir)) ?? overlayDir;
    findings.push(
      loadFinding(
        err.message,
        displayPath(file, root),
        'kubectl apply -k stops before sending anything',
        root,
      ),
    );
    return { findings };
  }
  const addonsFile = displayPath(layout.addonsFile, root);
  let listed: LoadedAddon[] = [];
  try {
    listed = await loadAddons(layout.addonsFile, addonsFile);
  } catch (err) {
    if (!isTwinError(err)) throw err;
    findings.push(
      loadFinding(
        err.message,
        addonsFile,
        'the add-ons cannot be installed as listed, so their custom resources have no CRDs',
        root,
      ),
    );
  }
  const { installed, leftOut } = profile.addons(listed);
  let topology: Topology | undefined;
  try {
    topology = await loadTopology(layout.topologyFile);
  } catch (err) {
    if (!isTwinError(err)) throw err;
    findings.push(
      loadFinding(
        err.message,
        displayPath(layout.topologyFile, root),
        'no cluster can be planned from it',
        root,
      ),
    );
  }
  let bindings: TwinBindings | undefined;
  try {
    bindings = await TwinBindings.load(layout.bindingsFile, root);
  } catch (err) {
    if (!isTwinError(err)) throw err;
    findings.push(
      loadFinding(
        err.message,
        displayPath(layout.bindingsFile, root),
        'nothing on a cluster (the bindings are the twin’s); the twin does not start',
        root,
      ),
    );
  }
  const lines = new SourceLines(root);
  const addonsDoc = { apiVersion: 'twin.dev/v1alpha1', kind: 'Addons', metadata: { name: '' } };
  const ctx: CheckContext = {
    layout,
    overlay,
    profile,
    rendered,
    objects: rendered.map((r) => r.object),
    addons: installed,
    leftOutAddons: leftOut,
    addonsFile,
    topology,
    bindings,
    at: (r, field) => located(r.source, lines.lineOf(r.source, r.object, field)),
    atAddon: (a, field) =>
      located(
        addonsFile,
        a.index === undefined
          ? undefined
          : lines.lineOf(addonsFile, addonsDoc, `addons[${a.index}]${field ? `.${field}` : ''}`),
      ),
  };
  return { ctx, findings };
}

export function located(source: string, line: number | undefined): Location {
  return line === undefined ? { source } : { source, line };
}

/** A file that does not load: its message often starts with "<file>:<line>: " already. */
function loadFinding(message: string, fallback: string, cluster: string, root: string): Finding {
  const m = /^([^\s:]+\.(?:ya?ml|json|tf)):(?:(\d+):)? (.*)$/s.exec(message);
  const source = m ? displayPath(m[1]!, root) : fallback;
  return {
    severity: 'error',
    check: 'load',
    source,
    ...(m?.[2] ? { line: Number(m[2]) } : {}),
    message: m ? m[3]! : message,
    cluster,
  };
}

/** A finding about a field of a rendered object, located at its line. */
export function objectFinding(
  ctx: CheckContext,
  r: RenderedObject,
  f: { severity: Finding['severity']; check: string; field?: string; message: string; cluster: string },
): Finding {
  return {
    severity: f.severity,
    check: f.check,
    ...ctx.at(r, f.field),
    object: describeObject(r.object),
    ...(f.field ? { field: f.field } : {}),
    message: f.message,
    cluster: f.cluster,
  };
}
