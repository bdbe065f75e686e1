import path from 'node:path';
import { shellQuote, shellWords } from './shell-quote.ts';

/** One bind mount of a container: a directory or file on this machine at a path in the container. */
export interface VolumeMount {
  source: string;
  target: string;
  readOnly: boolean;
  /** The source is a file (a subPath of a file), mounted over a file. */
  file: boolean;
}

/** Everything a container's start script needs, as paths on this machine and in the container. */
export interface ContainerStartPlan {
  /** The image's layer (image-layer.ts), over the machine's root filesystem. */
  layer: string;
  /** The container's writable layer and the overlay's work and mount directories. */
  upper: string;
  work: string;
  merged: string;
  /** The container's /tmp. */
  tmp: string;
  /** The kubelet-managed files of the pod. */
  etc: { hosts: string; resolvConf: string; hostname: string };
  volumes: VolumeMount[];
  hostname: string;
  /** chroot --userspec: "uid:gid" or a user name as the image's USER names it. */
  userspec: string;
  groups: number[];
  workingDir: string;
  argv: string[];
}

/**
 * The script the launcher runs as process 1 of the container's namespaces: the root filesystem (an
 * overlay of the container's writable layer, which starts as the image's layer, on the machine's
 * root), /proc, /sys,
 * /dev, a private /dev/shm and /tmp, /etc/hosts, /etc/resolv.conf and /etc/hostname as the kubelet
 * mounts them, the volumes at their mount paths (read-only where they are), the pod's host name; then
 * it becomes the container's command, run from its working directory as its user.
 */
export function containerStartScript(p: ContainerStartPlan): string {
  const m = (target: string) => shellQuote(path.posix.join(p.merged, target));
  const lines = [
    'set -e',
    'mount --make-rprivate /',
    // The image's layer lies on the machine's root filesystem, which overlayfs does not take as a second
    // lower layer under the root (overlapping layers): it starts the container's writable layer instead.
    `cp -a ${shellQuote(`${p.layer}/.`)} ${shellQuote(`${p.upper}/`)}`,
    `mount -t overlay overlay -o ${shellQuote(`lowerdir=/,upperdir=${p.upper},workdir=${p.work}`)} ${shellQuote(p.merged)}`,
    `mount -t proc proc ${m('/proc')}`,
    `mount --rbind /sys ${m('/sys')}`,
    `mount --rbind /dev ${m('/dev')}`,
    `mount -t tmpfs -o nosuid,nodev,mode=1777,size=64m shm ${m('/dev/shm')}`,
    `mount --bind ${shellQuote(p.tmp)} ${m('/tmp')}`,
    `mount --bind ${shellQuote(p.etc.hosts)} ${m('/etc/hosts')}`,
    `mount --bind ${shellQuote(p.etc.resolvConf)} ${m('/etc/resolv.conf')}`,
    `mount --bind ${shellQuote(p.etc.hostname)} ${m('/etc/hostname')}`,
  ];
  const volumes = [...p.volumes].sort((a, b) => a.target.split('/').length - b.target.split('/').length);
  for (const v of volumes) {
    if (v.file) lines.push(`mkdir -p ${m(path.posix.dirname(v.target))}`, `touch ${m(v.target)}`);
    else lines.push(`mkdir -p ${m(v.target)}`);
    lines.push(`mount --bind ${shellQuote(v.source)} ${m(v.target)}`);
    if (v.readOnly) lines.push(`mount -o remount,bind,ro ${m(v.target)}`);
  }
  lines.push(`hostname ${shellQuote(p.hostname)}`, `mkdir -p ${m(p.workingDir)}`);
  const groups = p.groups.length ? ` --groups=${p.groups.join(',')}` : '';
  lines.push(
    `exec chroot --userspec=${shellQuote(p.userspec)}${groups} ${shellQuote(p.merged)} /usr/bin/env -C ${shellQuote(p.workingDir)} -- ${shellWords(p.argv)}`,
  );
  return `${lines.join('\n')}\n`;
}
