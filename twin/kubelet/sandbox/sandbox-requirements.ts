import { findBinary } from '../../data/binaries.ts';

/**
 * Why images bound by their Dockerfile cannot run live here, or undefined when they can: the sandbox
 * needs root (mount, UTS and PID namespaces, overlayfs, the DNS server's port 53), a C compiler for
 * its launcher and preload, and util-linux's unshare for the image layer.
 */
export function sandboxUnavailable(): string | undefined {
  cached ??= { why: check() };
  return cached.why;
}

let cached: { why: string | undefined } | undefined;

function check(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return 'running images live needs root (mount and PID namespaces, overlayfs)';
  if (!findBinary({ name: 'cc' }) && !findBinary({ name: 'gcc' }))
    return 'running images live needs a C compiler (Debian package gcc)';
  if (!findBinary({ name: 'unshare' }))
    return 'running images live needs unshare (Debian package util-linux)';
  return undefined;
}
