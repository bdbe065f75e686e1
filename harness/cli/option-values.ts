import { accessSync, constants, existsSync, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import { DEFAULT_TIME_SCALE } from '../../kube/clock.ts';
import { resolveSystem } from '../../system/system.ts';

/**
 * The CLI's option values, checked where they are parsed: a bad value is TWIN_OPTION_INVALID (exit 2)
 * naming the flag and the value, before anything starts.
 */

/** `--time-scale`: a finite number above 0. */
export function parseTimeScale(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--time-scale: "${value}" is not a finite positive number (control-plane time runs N× real time; default ${DEFAULT_TIME_SCALE})`,
    );
  return n;
}

/** `--runs`: a whole number ≥ 1. */
export function parseRuns(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new TwinError('TWIN_OPTION_INVALID', `--runs: "${value}" is not a whole number ≥ 1`);
  return n;
}

/** A comma-separated list of names that must name at least one. */
export function parseNameList(flag: string, value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new TwinError('TWIN_OPTION_INVALID', `${flag}: "${value}" names nothing; give one or more names`);
  return names;
}

// statfs f_type of pseudo filesystems nothing may be written to (linux/magic.h).
const PSEUDO_FILESYSTEMS: Record<number, string> = {
  40864: 'proc',
  1650812274: 'sysfs',
  7377: 'devpts',
  2613483: 'cgroup',
  1667723888: 'cgroup2',
  1684170528: 'debugfs',
  1953653091: 'tracefs',
  1935894131: 'securityfs',
  3405662737: 'bpf',
};

/**
 * A directory the run will create and write (`--work-dir`, `--report-dir`), checked without creating
 * anything: it is a directory or can be made one (no file in the way, the nearest existing parent is
 * a writable directory on a real filesystem). Returns it absolute.
 */
export function checkWritableDirectory(flag: string, dir: string): string {
  const abs = path.resolve(dir);
  let existing = abs;
  while (!existsSync(existing)) existing = path.dirname(existing);
  const shown = existing === abs ? abs : `${existing} (the nearest existing parent of ${abs})`;
  const st = statSync(existing);
  if (!st.isDirectory())
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `${flag} ${dir}: ${shown} is ${st.isFile() ? 'a file' : 'not a directory'}; give a directory`,
    );
  if (process.platform === 'linux') {
    const fs = PSEUDO_FILESYSTEMS[statfsSync(existing).type];
    if (fs)
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `${flag} ${dir}: ${existing} is on the ${fs} pseudo filesystem, where nothing can be stored; give a directory on a disk`,
      );
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw new TwinError('TWIN_OPTION_INVALID', `${flag} ${dir}: ${shown} is not writable by this user`);
  }
  return abs;
}

/** An input file (`--baseline`) that must exist when given explicitly: a readable file, not a directory. */
export function checkInputFile(flag: string, file: string, options: { mayBeMissing?: boolean } = {}): string {
  const abs = path.resolve(file);
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.mayBeMissing) return abs;
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      code === 'ENOTDIR'
        ? `${flag} ${file}: a parent of it is a file, not a directory`
        : code === 'ENOENT'
          ? `${flag} ${file}: no such file (record one with --update-baseline, or leave ${flag} out)`
          : `${flag} ${file}: ${(err as Error).message}`,
    );
  }
  if (!st.isFile()) throw new TwinError('TWIN_OPTION_INVALID', `${flag} ${file}: is a directory, not a file`);
  return abs;
}

/** --env cluster deploys the overlay named, which must exist: there is no default on someone's cluster. */
export async function assertOverlay(
  system: string,
  overlay: string | undefined,
  root: string,
): Promise<void> {
  const layout = await resolveSystem(system, root);
  const overlays = layout.overlays();
  if (!overlay)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--env cluster needs --overlay <name>: which overlay of ${system} to deploy on the cluster (overlays: ${overlays.join(', ')})`,
    );
  if (!layout.hasOverlay(overlay))
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--overlay: ${path.relative(process.cwd(), layout.overlayDir(overlay))} does not exist (overlays of ${system}: ${overlays.join(', ')})`,
    );
}
