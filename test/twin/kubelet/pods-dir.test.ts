import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartTime } from '../../../core/process.ts';
import {
  preparePodsDir,
  removeOrphanedPodsDirs,
  removeRelocatedPodsDir,
  traversableByOthers,
} from '../../../twin/kubelet/pods-dir.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(mode: number): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'twin-podsdir-'));
  chmodSync(d, mode);
  dirs.push(d);
  return d;
}

describe('pods directory', () => {
  it('tells whether others can traverse every parent', () => {
    const open = tempDir(0o755);
    mkdirSync(path.join(open, 'a', 'b'), { recursive: true, mode: 0o755 });
    expect(traversableByOthers(path.join(open, 'a', 'b'))).toBe(true);
    const closed = tempDir(0o700);
    mkdirSync(path.join(closed, 'a'), { mode: 0o755 });
    expect(traversableByOthers(path.join(closed, 'a'))).toBe(false);
  });

  it('keeps the pods under the work directory when others can reach it', () => {
    const work = path.join(tempDir(0o755), 'work');
    const { path: pods, relocated } = preparePodsDir(work);
    expect(relocated).toBe(false);
    expect(pods).toBe(path.join(work, 'pods'));
    expect(lstatSync(pods).isDirectory()).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'as root under a closed parent: pods in a reachable directory, linked from the work directory (runs as root)',
    () => {
      const work = path.join(tempDir(0o700), 'work');
      const first = preparePodsDir(work);
      dirs.push(first.path);
      expect(first.relocated).toBe(true);
      expect(traversableByOthers(first.path)).toBe(true);
      expect(lstatSync(path.join(work, 'pods')).isSymbolicLink()).toBe(true);
      expect(realpathSync(path.join(work, 'pods'))).toBe(realpathSync(first.path));
      // What a crashed run left there is gone when the next twin on the same work directory starts.
      mkdirSync(path.join(first.path, 'shop_cart-0'));
      writeFileSync(path.join(first.path, 'shop_cart-0', 'stale'), 'x');
      const second = preparePodsDir(work);
      expect(second.path).toBe(first.path);
      expect(existsSync(path.join(second.path, 'shop_cart-0'))).toBe(false);
      // At teardown the logs come back under the work directory, private, and the relocated directory goes.
      mkdirSync(path.join(second.path, 'shop_cart-0', 'rootfs'), { recursive: true });
      writeFileSync(path.join(second.path, 'shop_cart-0', 'cart.log'), 'listening\n', { mode: 0o600 });
      writeFileSync(path.join(second.path, 'shop_cart-0', 'rootfs', 'data'), 'x');
      second.release();
      expect(existsSync(second.path)).toBe(false);
      expect(lstatSync(path.join(work, 'pods')).isDirectory()).toBe(true);
      const log = path.join(work, 'pods', 'shop_cart-0', 'cart.log');
      expect(readFileSync(log, 'utf8')).toBe('listening\n');
      expect(statSync(log).mode & 0o077).toBe(0);
      expect(statSync(path.dirname(log)).mode & 0o077).toBe(0);
      expect(existsSync(path.join(work, 'pods', 'shop_cart-0', 'rootfs'))).toBe(false);
    },
  );

  it.skipIf(process.platform !== 'linux')(
    'removes relocated directories whose twin is gone, and only those (needs procfs: start times)',
    () => {
      const base = tempDir(0o755);
      const dead = spawnSync('true').pid!; // exited: its pid names no running twin
      for (const [name, owner] of [
        ['gone', `${dead} 1\n`],
        ['mine', `${process.pid} ${processStartTime(process.pid) ?? ''}\n`],
        ['reused', `${process.pid} 1\n`], // this pid, another start time: a twin that is gone
      ] as const) {
        mkdirSync(path.join(base, name));
        writeFileSync(path.join(base, name, '.owner'), owner);
      }
      mkdirSync(path.join(base, 'unknown'));
      // A twin killed while removing its directory: renamed first, its owner file already gone.
      mkdirSync(path.join(base, 'half.4242.removing', 'system_web-0'), { recursive: true });
      expect(
        removeOrphanedPodsDirs(base)
          .map((d) => path.basename(d))
          .sort(),
      ).toEqual(['gone', 'half.4242.removing', 'reused']);
      expect(existsSync(path.join(base, 'mine'))).toBe(true);
      expect(existsSync(path.join(base, 'unknown'))).toBe(true);
    },
  );

  it('a relocated directory is renamed before it is removed, and its parent goes once empty', () => {
    const base = path.join(tempDir(0o755), 'infra-twin-pods');
    const real = path.join(base, 'abc');
    mkdirSync(path.join(real, 'system_web-0'), { recursive: true });
    writeFileSync(path.join(real, 'system_web-0', 'web.log'), 'x');
    removeRelocatedPodsDir(real);
    expect(existsSync(real)).toBe(false);
    expect(existsSync(base)).toBe(false);
  });
});
