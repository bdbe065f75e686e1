import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Document, parseDocument, stringify } from 'yaml';
import { TwinError } from '../../core/errors.ts';
import { loadAddons } from '../addons/addons-file.ts';
import { PROJECT_FILE } from '../project.ts';
import { displayPath, renderKustomization } from '../render/index.ts';
import { parseTopology } from '../topology/topology.ts';
import { TwinBindings } from '../twin-bindings.ts';
import { inferAddons } from './infer-addons.ts';
import { inferBindings } from './infer-bindings.ts';
import { inferTopology } from './infer-topology.ts';

export interface InitOptions {
  /** The repository root (twin.yaml goes there). */
  root: string;
  /** A kustomize base or overlay (relative to the root or absolute). */
  kustomizeDir: string;
  /** The system's name (default: from the kustomize directory's path). */
  name?: string;
  /** Where topology.yaml, twin-bindings.yaml and addons.yaml go (default: twin/<name>). */
  out?: string;
  /** The overlay's name in twin.yaml (default: the kustomize directory's name). */
  overlay?: string;
  /** Overwrite files that exist. */
  force?: boolean;
}

export interface InitReport {
  name: string;
  overlay: string;
  dir: string;
  files: string[];
  objects: number;
  inferred: string[];
  decide: string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * `twin init`: renders a kustomize directory and writes the twin's files of a system for it (a topology
 * that can hold every pod, twin bindings, add-ons), then adds the system to twin.yaml. Returns what it
 * inferred and what the user must decide.
 */
export async function initSystem(options: InitOptions): Promise<InitReport> {
  const root = path.resolve(options.root);
  const kdir = path.resolve(root, options.kustomizeDir);
  const overlay = options.overlay ?? dnsLabel(path.basename(kdir));
  const name = options.name ?? defaultName(root, kdir);
  for (const [field, value] of [
    ['--name', name],
    ['--overlay', overlay],
  ] as const)
    if (!DNS_LABEL.test(value))
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `${field}: "${value}" must be a DNS label (lower-case letters, digits and "-")`,
      );
  const dir = path.resolve(root, options.out ?? path.join('twin', name));
  const rendered = await renderKustomization(kdir, { cwd: root });
  const objects = rendered.map((r) => r.object);

  const topo = inferTopology(objects, name);
  const bindings = inferBindings(objects);
  const addons = inferAddons(objects, name);
  const decide = [...topo.decide];
  if (bindings.emulated.length > 0)
    decide.push(
      `images emulated (${bindings.emulated.length}): ${bindings.emulated.join(', ')}; bind those whose behaviour a scenario tests (twin-bindings.yaml says how)`,
    );
  if (addons.unknownKinds.length > 0)
    decide.push(
      `custom resources of add-ons the catalogue does not have: ${addons.unknownKinds.join(', ')}; the twin refuses them as a cluster without their CRDs does (add the CRDs to the manifests, or leave those objects out of the overlay)`,
    );
  const inferred = [
    ...topo.inferred,
    ...topo.pools.map((p) => `node pool ${p.pool.name}: ${p.why}`),
    `bindings: ${bindings.live.length > 0 ? `live ${bindings.live.join(', ')}` : 'no image this package can run live'}; ${bindings.emulated.length} emulated`,
    `add-ons: ${addons.addons.map((a) => `${a.name} ${a.version} (${a.kinds.join(', ')})`).join('; ') || 'none'}`,
  ];

  const files = {
    'topology.yaml': topologyText(topo, kdir, root),
    'twin-bindings.yaml': bindings.text,
    'addons.yaml': addons.text,
  };
  const existing = Object.keys(files).filter((f) => existsSync(path.join(dir, f)));
  if (existing.length > 0 && !options.force)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `${displayPath(dir, process.cwd())} already has ${existing.join(', ')}; pass --force to overwrite, or --out another folder`,
    );
  // What was written must load as the harness loads it.
  parseTopology(files['topology.yaml'], path.join(dir, 'topology.yaml'));
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    await writeFile(path.join(dir, file), text);
    written.push(path.join(dir, file));
  }
  await TwinBindings.load(path.join(dir, 'twin-bindings.yaml'), root);
  await loadAddons(path.join(dir, 'addons.yaml'));
  written.push(await addToProject(root, name, dir, overlay, kdir));
  return { name, overlay, dir, files: written, objects: objects.length, inferred, decide };
}

function dnsLabel(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63) || 'system'
  );
}

/** …/<app>/overlays/<env> → <app>; …/<app>/k8s/overlays/<env> → <app>; otherwise the folder, or the repository's. */
function defaultName(root: string, kdir: string): string {
  const parts = path.relative(root, kdir).split(path.sep).filter(Boolean);
  const overlays = parts.lastIndexOf('overlays');
  const before =
    overlays > 0
      ? parts.slice(0, overlays).filter((p) => !['k8s', 'kubernetes', 'deploy', 'manifests'].includes(p))
      : [];
  return dnsLabel(before.at(-1) ?? path.basename(root));
}

function topologyText(topo: ReturnType<typeof inferTopology>, kdir: string, root: string): string {
  const header = [
    `# The cluster ${topo.topology.metadata.name} runs on, inferred by \`twin init\` from ${path.relative(root, kdir) || '.'}`,
    '# (docs/own-system.md). Node pools were sized so that every pod schedules with one zone lost; replace',
    "# them with your cluster's node groups where they differ.",
    ...topo.pools.flatMap((p) => [
      `#   ${p.pool.name}: ${p.why}`,
      ...(p.holds.length > 0 ? [`#     holds ${p.holds.join(', ')}`] : []),
    ]),
  ];
  return `${header.join('\n')}\n${stringify(topo.topology, { lineWidth: 0 })}`;
}

/** Adds (or updates) the system in twin.yaml, keeping what the file says already. Returns its path. */
async function addToProject(
  root: string,
  name: string,
  dir: string,
  overlay: string,
  kdir: string,
): Promise<string> {
  const file = path.join(root, PROJECT_FILE);
  const doc = existsSync(file)
    ? parseDocument(await readFile(file, 'utf8'))
    : new Document({ apiVersion: 'twin.dev/v1alpha1', kind: 'TwinProject', systems: [], scenarios: [] });
  if (!existsSync(file))
    doc.commentBefore =
      ' The systems and scenarios of this repository for infra-twin (docs/own-system.md).\n Paths are relative to this file.';
  const rel = (p: string) => path.relative(root, p).split(path.sep).join('/') || '.';
  const systems = (doc.get('systems') as any) ?? doc.createNode([]);
  if (!doc.has('systems')) doc.set('systems', systems);
  const items: any[] = systems.items ?? [];
  const at = items.findIndex((s) => s?.get?.('name') === name);
  if (at >= 0) {
    items[at].set('dir', rel(dir));
    items[at].setIn(['overlays', overlay], rel(kdir));
  } else
    systems.add(
      doc.createNode({ name, dir: rel(dir), overlays: { [overlay]: rel(kdir) }, defaultOverlay: overlay }),
    );
  await writeFile(file, doc.toString({ lineWidth: 0 }));
  return file;
}
