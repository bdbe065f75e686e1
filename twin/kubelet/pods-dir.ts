import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The directory that holds every pod's logs and files (`<workDir>/pods`). Servers that refuse to run
 * as root (PostgreSQL) run as another user, which must be able to reach their data: when the twin
 * runs as root and some parent of the work directory is closed to others (a clone under /root, a
 * mkdtemp directory, both 0700), the pods live in a directory under the system's temporary directory
 * that everyone can traverse, and `<workDir>/pods` is a symbolic link to it.
 */
export function preparePodsDir(workDir: string): { path: string; relocated: boolean } {
  return prepareSharedDir(workDir, 'pods');
}

/** The directory of every PersistentVolume's data (`<workDir>/volumes`), reachable as the pods directory is. */
export function prepareVolumesDir(workDir: string): { path: string; relocated: boolean } {
  return prepareSharedDir(workDir, 'volumes');
}

/** `<workDir>/<name>`, or a link to a directory everyone can traverse (see preparePodsDir). */
function prepareSharedDir(workDir: string, name: string): { path: string; relocated: boolean } {
  const link = path.join(path.resolve(workDir), name);
  mkdirSync(path.dirname(link), { recursive: true });
  if (process.getuid?.() !== 0 || traversableByOthers(path.dirname(link))) {
    mkdirSync(link, { recursive: true });
    return { path: link, relocated: false };
  }
  const base = path.join(tmpdir(), 'infra-twin-pods');
  mkdirSync(base, { recursive: true, mode: 0o755 });
  const real = path.join(base, createHash('sha1').update(link).digest('hex').slice(0, 16));
  mkdirSync(real, { recursive: true, mode: 0o755 });
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(link);
  } catch {}
  if (existing && !existing.isSymbolicLink()) rmSync(link, { recursive: true, force: true });
  if (!existing?.isSymbolicLink()) symlinkSync(real, link);
  return { path: real, relocated: true };
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
