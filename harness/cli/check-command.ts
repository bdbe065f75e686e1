import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import { type CheckReport, checkedPairs, checkSystem, formatFinding } from '../../system/check/index.ts';
import { clusterProfile } from '../../system/profiles/profile-registry.ts';
import { resolveSystem } from '../../system/system.ts';

export interface CheckOptions {
  system?: string;
  overlay?: string;
  profile?: string;
  all?: boolean;
  format: 'text' | 'json';
}

/** The systems under infra/, by name. */
async function allSystems(root: string): Promise<string[]> {
  return (await readdir(path.join(root, 'infra'), { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/**
 * `twin check`: every static finding of a system (system/check), nothing started. Exit 0 when no
 * finding is an error, 1 when one is; a bad option (an unknown system, overlay or profile) exits 2.
 */
export async function checkCommand(
  root: string,
  opts: CheckOptions,
  out: { write(text: string): unknown } = process.stdout,
): Promise<number> {
  if (opts.all && (opts.overlay !== undefined || opts.profile !== undefined))
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      '--all checks each profile with the overlays written for it; leave out --overlay and --profile (or leave out --all)',
    );
  const reports: CheckReport[] = [];
  if (opts.all) {
    for (const system of opts.system ? [opts.system] : await allSystems(root)) {
      const layout = await resolveSystem(system, root);
      for (const { overlay, profile } of checkedPairs(layout))
        reports.push(await checkSystem(layout, { overlay, profile }));
    }
  } else {
    const profile = clusterProfile(opts.profile);
    const layout = await resolveSystem(opts.system ?? 'ai-platform', root);
    if (opts.overlay !== undefined && !layout.hasOverlay(opts.overlay))
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `--overlay: ${layout.name} has no overlay ${opts.overlay} (its overlays: ${layout.overlays().join(', ')})`,
      );
    reports.push(await checkSystem(layout, { ...(opts.overlay ? { overlay: opts.overlay } : {}), profile }));
  }
  if (opts.format === 'json') out.write(`${JSON.stringify(reports, null, 2)}\n`);
  else
    for (const r of reports) {
      const lines = r.findings.map(formatFinding);
      const { error, warning, note } = r.counts;
      lines.push(
        `${r.system} (overlay ${r.overlay}, profile ${r.profile}): ${error} error${error === 1 ? '' : 's'}, ${warning} warning${warning === 1 ? '' : 's'}, ${note} note${note === 1 ? '' : 's'}`,
      );
      out.write(`${lines.join('\n')}\n${reports.length > 1 ? '\n' : ''}`);
    }
  return reports.some((r) => r.counts.error > 0) ? 1 : 0;
}
