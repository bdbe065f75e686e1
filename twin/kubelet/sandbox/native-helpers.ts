import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TwinError } from '../../../core/errors.ts';
import { findBinary } from '../../data/binaries.ts';

const run = promisify(execFile);

const LAUNCHER_SOURCE = fileURLToPath(new URL('./sandbox-launcher.c', import.meta.url));
const PRELOAD_SOURCE = fileURLToPath(new URL('./pod-address-preload.c', import.meta.url));

/** The two compiled helpers a live image needs (see their sources for what they do). */
export interface NativeHelpers {
  /** Runs a start script as process 1 of new namespaces (sandbox-launcher.c). */
  launcher: string;
  /** Gives a container's programs its pod's address (pod-address-preload.c). */
  preload: string;
}

const building = new Map<string, Promise<NativeHelpers>>();

/**
 * Compiles the helpers with the machine's C compiler into `<cacheDir>/native/<hash>/` once per source
 * version (a build goes to a temporary directory and is renamed into place, so concurrent twins agree).
 */
export function nativeHelpers(cacheDir: string): Promise<NativeHelpers> {
  const hash = createHash('sha256')
    .update(readFileSync(LAUNCHER_SOURCE))
    .update(readFileSync(PRELOAD_SOURCE))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(cacheDir, 'native', hash);
  const key = dir;
  let p = building.get(key);
  if (!p) {
    p = build(dir);
    building.set(key, p);
    p.catch(() => building.delete(key));
  }
  return p;
}

async function build(dir: string): Promise<NativeHelpers> {
  const helpers = {
    launcher: path.join(dir, 'twin-sandbox'),
    preload: path.join(dir, 'pod-address-preload.so'),
  };
  if (existsSync(helpers.launcher) && existsSync(helpers.preload)) return helpers;
  const cc = findBinary({ name: 'cc' }) ?? findBinary({ name: 'gcc' });
  if (!cc)
    throw new TwinError(
      'TWIN_BINARY_NOT_FOUND',
      'no C compiler (cc) found: the twin compiles its container launcher to run images live; install the Debian package `gcc` (apt-get install -y gcc)',
    );
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await run(cc, ['-O2', '-Wall', '-o', path.join(tmp, 'twin-sandbox'), LAUNCHER_SOURCE]);
    await run(cc, [
      '-O2',
      '-Wall',
      '-shared',
      '-fPIC',
      '-o',
      path.join(tmp, 'pod-address-preload.so'),
      PRELOAD_SOURCE,
      '-ldl',
      '-lpthread',
    ]);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const e = err as { stderr?: string; message: string };
    throw new TwinError(
      'TWIN_BINARY_NOT_FOUND',
      `compiling the container launcher failed: ${e.stderr || e.message}`,
    );
  }
  try {
    renameSync(tmp, dir);
  } catch {
    // Another process put the same build in place first.
    rmSync(tmp, { recursive: true, force: true });
  }
  return helpers;
}
