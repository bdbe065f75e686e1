import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findBinary } from '../data/binaries.ts';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('./pod-source-address.c', import.meta.url));

export type ShimBuild = { ok: true; path: string } | { ok: false; reason: string };

let built: Promise<ShimBuild> | undefined;

/**
 * The LD_PRELOAD library that makes native programs (redis-server, postgres, pgbouncer) connect from
 * their pod's address, built once per machine with the C compiler and cached by the source's hash in
 * a world-readable directory (servers run as `postgres` or `nobody` under root).
 */
export function podSourceShim(): Promise<ShimBuild> {
  built ??= build();
  return built;
}

async function build(): Promise<ShimBuild> {
  if (process.platform !== 'linux')
    return { ok: false, reason: `LD_PRELOAD is Linux-only here (${process.platform})` };
  const text = readFileSync(SOURCE);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const dir = path.join(tmpdir(), 'infra-twin-native', hash);
  const out = path.join(dir, 'pod-source-address.so');
  if (existsSync(out)) return { ok: true, path: out };
  const cc = findBinary({ name: 'cc' }) ?? findBinary({ name: 'gcc' });
  if (!cc) return { ok: false, reason: 'no C compiler to build the shim (apt-get install -y gcc libc6-dev)' };
  mkdirSync(dir, { recursive: true });
  for (const d of [path.dirname(dir), dir]) {
    try {
      chmodSync(d, 0o755);
    } catch {}
  }
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await run(cc, ['-shared', '-fPIC', '-O2', '-Wall', '-o', tmp, SOURCE, '-ldl']);
    chmodSync(tmp, 0o755);
    renameSync(tmp, out); // atomic: twins building at once each rename a complete file
    return { ok: true, path: out };
  } catch (err) {
    rmSync(tmp, { force: true });
    const e = err as { stderr?: string; message: string };
    return { ok: false, reason: `building the shim with ${cc} failed: ${(e.stderr || e.message).trim()}` };
  }
}
