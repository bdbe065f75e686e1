import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isSameProcess, processStartTime } from '../../core/process.ts';

export interface SharedDir {
  /** Where the pods' (or the volumes') directories are made. */
  path: string;
  /** Whether `path` is outside the work directory (see preparePodsDir). */
  relocated: boolean;
  /**
   * At teardown: a relocated directory is removed (for the pods, after their logs are copied back
   * under `<workDir>/pods`, 0700, logs 0600), so nothing the run wrote stays in the temporary directory.
   */
  release(): void;
}

/** Pod directories: others may pass through (a server running as another user reaches its data), not list. */
const POD_DIR_MODE = 0o711;

/**
 * The directory that holds every pod's logs and files (`<workDir>/pods`). Servers that refuse to run
 * as root (PostgreSQL) run as another user, which must be able to reach their data: when the twin
 * runs as root and some parent of the work directory is closed to others (a clone under /root, a
 * mkdtemp directory, both 0700), the pods live in a directory under the system's temporary directory
 * that everyone can traverse, and `<workDir>/pods` is a symbolic link to it. What a crashed run left
 * there is removed first.
 */
export function preparePodsDir(workDir: string): SharedDir {
  return prepareSharedDir(workDir, 'pods', true);
}

/** The directory of every PersistentVolume's data (`<workDir>/volumes`), reachable as the pods directory is. */
export function prepareVolumesDir(workDir: string): SharedDir {
  return prepareSharedDir(workDir, 'volumes', false);
}

/** `<workDir>/<name>`, or a link to a directory everyone can traverse (see preparePodsDir). */
function prepareSharedDir(workDir: string, name: 'pods' | 'volumes', keepLogs: boolean): SharedDir {
  const link = path.join(path.resolve(workDir), name);
  mkdirSync(path.dirname(link), { recursive: true });
  if (process.getuid?.() !== 0 || traversableByOthers(path.dirname(link))) {
    mkdirSync(link, { recursive: true, mode: POD_DIR_MODE });
    return { path: link, relocated: false, release: () => {} };
  }
  const real = relocatedDir(workDir, name);
  mkdirSync(path.dirname(real), { recursive: true, mode: POD_DIR_MODE });
  removeOrphanedPodsDirs(path.dirname(real));
  rmSync(real, { recursive: true, force: true });
  mkdirSync(real, { recursive: true, mode: POD_DIR_MODE });
  writeFileSync(path.join(real, OWNER_FILE), `${process.pid} ${processStartTime(process.pid) ?? ''}\n`, {
    mode: 0o600,
  });
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(link);
  } catch {}
  if (existing) rmSync(link, { recursive: true, force: true });
  symlinkSync(real, link);
  return { path: real, relocated: true, release: () => releaseRelocated(link, real, keepLogs) };
}

/** Which twin made a relocated directory: `<pid> <start time>`, so another twin can tell it was orphaned. */
const OWNER_FILE = '.owner';

/**
 * Removes relocated directories whose twin is gone without releasing them (killed with SIGKILL, as a
 * scenario's Vitest worker can be), so they do not pile up in the temporary directory.
 */
export function removeOrphanedPodsDirs(base: string): string[] {
  const removed: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(base);
  } catch {
    return removed;
  }
  for (const name of entries) {
    const dir = path.join(base, name);
    // Given up by its twin (renamed before removal): a twin killed while removing it left the rest.
    if (name.endsWith(REMOVING)) {
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
      continue;
    }
    let owner: string;
    try {
      owner = readFileSync(path.join(dir, OWNER_FILE), 'utf8');
    } catch {
      continue; // not ours to judge (made by an older twin, or being made right now)
    }
    const [pid, startTime] = owner.trim().split(' ');
    if (isSameProcess(Number(pid), startTime || undefined)) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** Where `<workDir>/<name>` lives when relocated (a name derived from the work directory). */
export function relocatedDir(workDir: string, name: 'pods' | 'volumes'): string {
  const link = path.join(path.resolve(workDir), name);
  return path.join(tmpdir(), 'infra-twin-pods', createHash('sha1').update(link).digest('hex').slice(0, 16));
}

/** Removes the link and the relocated directory; with keepLogs the pods' logs are copied back first. */
function releaseRelocated(link: string, real: string, keepLogs: boolean): void {
  let isLink = false;
  try {
    isLink = lstatSync(link).isSymbolicLink();
  } catch {}
  if (isLink) rmSync(link, { force: true });
  if (keepLogs && existsSync(real)) {
    for (const pod of readdirSync(real, { withFileTypes: true })) {
      if (!pod.isDirectory()) continue;
      for (const f of readdirSync(path.join(real, pod.name), { withFileTypes: true })) {
        if (!f.isFile() || !f.name.endsWith('.log')) continue;
        mkdirSync(path.join(link, pod.name), { recursive: true, mode: 0o700 });
        copyFileSync(path.join(real, pod.name, f.name), path.join(link, pod.name, f.name));
      }
    }
  }
  removeRelocatedPodsDir(real);
}

/** The suffix of a relocated directory being removed (see removeRelocatedPodsDir). */
const REMOVING = '.removing';

/**
 * Removes a relocated directory (and its parent once empty); what a crashed run left too. It is
 * renamed first, so a twin killed halfway through the removal (its owner file already gone) leaves a
 * directory the next twin knows to remove.
 */
export function removeRelocatedPodsDir(real: string): void {
  const doomed = `${real}.${process.pid}${REMOVING}`;
  let target = real;
  try {
    renameSync(real, doomed);
    target = doomed;
  } catch {}
  rmSync(target, { recursive: true, force: true });
  try {
    rmdirSync(path.dirname(real)); // only when empty: another run's pods may live beside
  } catch {}
}

/** Whether a user other than the owner (and outside its group) can traverse every directory down to `dir`. */
export function traversableByOthers(dir: string): boolean {
  let current = path.resolve(dir);
  for (;;) {
    try {
      if ((statSync(current).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}
