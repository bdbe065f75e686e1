import { execFileSync } from 'node:child_process';
import { chownSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { findBinary } from './binaries.ts';

export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The unprivileged user a data service runs as when the twin runs as root. postgres refuses to run
 * as root ("root" execution of the PostgreSQL server is not permitted), so as root the server is
 * started through util-linux's `setpriv` as the first of `candidates` that exists (Debian's
 * postgresql package creates `postgres`; `nobody` always exists). Undefined when not root.
 */
export function serviceUser(candidates: string[] = ['postgres', 'nobody']): ServiceUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const name of candidates) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { name, uid, gid };
    } catch {}
  }
  return undefined;
}

/**
 * argv run through setpriv: as `user` when given, and killed when the launcher dies (parent-death
 * signal), so a server never outlives its container's entrypoint. setpriv keeps the pid and the
 * process group, so the kubelet's signals reach it. Without setpriv, argv runs as it is.
 */
export function asUser(argv: string[], user: ServiceUser | undefined): string[] {
  if (!hasSetpriv()) return argv;
  const ids = user ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups'] : [];
  return ['setpriv', '--pdeathsig=KILL', ...ids, '--', ...argv];
}

let setprivFound: boolean | undefined;
function hasSetpriv(): boolean {
  setprivFound ??= findBinary({ name: 'setpriv' }) !== undefined;
  return setprivFound;
}

/** Gives `dir` and everything under it to `user` (no-op when not root). */
export function chownTree(dir: string, user: ServiceUser | undefined): void {
  if (!user) return;
  const walk = (p: string) => {
    chownSync(p, user.uid, user.gid);
    if (lstatSync(p).isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
}
