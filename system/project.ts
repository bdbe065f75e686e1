import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { TwinError } from '../core/errors.ts';
import { REPO_ROOT } from './repo-root.ts';

/** The configuration file at the root of a repository that uses the harness (docs/own-system.md). */
export const PROJECT_FILE = 'twin.yaml';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const projectSystemSchema = z.strictObject({
  name: z.string().regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits and "-")'),
  /** Where topology.yaml, twin-bindings.yaml and addons.yaml are (relative to the repository root). */
  dir: z.string().min(1),
  /** Overlay name → kustomize directory (relative to the repository root). */
  overlays: z.record(z.string().regex(DNS_LABEL, 'must be a DNS label'), z.string().min(1)),
  /** The overlay scenarios bring up when none is named (default: the first of `overlays`). */
  defaultOverlay: z.string().optional(),
});

const projectSchema = z.strictObject({
  apiVersion: z.literal('twin.dev/v1alpha1'),
  kind: z.literal('TwinProject'),
  systems: z.array(projectSystemSchema).default([]),
  /** Folders of <name>.scenario.ts files of the repository's own (relative to the repository root). */
  scenarios: z.array(z.string().min(1)).default([]),
});

export type ProjectSystem = z.infer<typeof projectSystemSchema>;

/** A repository's twin.yaml, read; `root` is the folder it is in. */
export interface Project {
  root: string;
  file: string;
  systems: ProjectSystem[];
  scenarioDirs: string[];
}

/**
 * The repository the harness works in: the nearest folder at or above `from` holding twin.yaml, or
 * TWIN_PROJECT_ROOT where set (the CLI sets it for a scenario's worker); otherwise this package's own
 * root (its seed systems under infra/).
 */
export function projectRoot(from = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  if (env['TWIN_PROJECT_ROOT']) return path.resolve(env['TWIN_PROJECT_ROOT']);
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, PROJECT_FILE))) return dir;
    if (path.dirname(dir) === dir) return REPO_ROOT;
  }
}

/** twin.yaml at `root`, or undefined where there is none. Errors name the file, the field and the value. */
export function loadProject(root: string): Project | undefined {
  const file = path.join(root, PROJECT_FILE);
  if (!existsSync(file)) return undefined;
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'), { prettyErrors: true });
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const pos = e.linePos?.[0];
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `${file}:${pos?.line ?? 1}:${pos?.col ?? 1}: ${e.message.split('\n')[0]}`,
      );
    }
    throw e;
  }
  const parsed = projectSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `${file}: ${field.replace(/^\./, '') || '(document)'}: ${issue.message} (see docs/own-system.md)`,
    );
  }
  const names = new Set<string>();
  for (const [i, s] of parsed.data.systems.entries()) {
    if (names.has(s.name))
      throw new TwinError('TWIN_OPTION_INVALID', `${file}: systems[${i}].name: "${s.name}" is listed twice`);
    names.add(s.name);
    if (Object.keys(s.overlays).length === 0)
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `${file}: systems[${i}].overlays: name at least one overlay`,
      );
    if (s.defaultOverlay !== undefined && !(s.defaultOverlay in s.overlays))
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `${file}: systems[${i}].defaultOverlay: "${s.defaultOverlay}" is not one of overlays (${Object.keys(s.overlays).join(', ')})`,
      );
  }
  return { root, file, systems: parsed.data.systems, scenarioDirs: parsed.data.scenarios };
}

/** The overlay a scenario of the system brings up when none is named. */
export function defaultOverlayOf(system: ProjectSystem): string {
  return system.defaultOverlay ?? Object.keys(system.overlays)[0]!;
}
