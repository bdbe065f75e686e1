import path from 'node:path';

/** A volume mounted into a live container: the container path and the directory on this machine behind it. */
export interface ContainerMount {
  mountPath: string;
  path: string;
  readOnly?: boolean;
}

/**
 * The pod's directory in the run's work directory: `TWIN_POD_DIR` from the kubelet, else derived from
 * the cluster DNS file (`<workDir>/network/…`) as `<workDir>/pods/<namespace>_<hostname>`.
 */
export function podDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['TWIN_POD_DIR']) return env['TWIN_POD_DIR'];
  const pod = `${env['TWIN_POD_NAMESPACE'] ?? 'default'}_${env['HOSTNAME'] ?? 'pod'}`;
  if (env['TWIN_DNS_FILE']) return path.join(path.dirname(path.dirname(env['TWIN_DNS_FILE'])), 'pods', pod);
  return path.resolve('.twin', 'pods', pod);
}

/** The container's volume mounts, as the kubelet hands them over in `TWIN_VOLUME_MOUNTS` (JSON). */
export function containerMounts(env: NodeJS.ProcessEnv = process.env): ContainerMount[] {
  const raw = env['TWIN_VOLUME_MOUNTS'];
  if (!raw) return [];
  return JSON.parse(raw) as ContainerMount[];
}

/**
 * Where a container's filesystem path lives on this machine. A path under a volume mount is in that
 * volume's directory: a PersistentVolume's outlives every pod (as the disk does), an emptyDir's lives
 * as long as the pod. Any other path is in the container's own writable layer (`TWIN_CONTAINER_ROOT`),
 * which a restarted container gets new and empty, as a container runtime gives it.
 */
export function podPath(containerPath: string, env: NodeJS.ProcessEnv = process.env): string {
  const target = path.posix.resolve('/', containerPath);
  let best: ContainerMount | undefined;
  for (const m of containerMounts(env)) {
    const mount = path.posix.resolve('/', m.mountPath);
    const under = target === mount || target.startsWith(mount === '/' ? '/' : `${mount}/`);
    if (under && (!best || mount.length > path.posix.resolve('/', best.mountPath).length)) best = m;
  }
  if (best) return path.join(best.path, path.posix.relative(path.posix.resolve('/', best.mountPath), target));
  const root = env['TWIN_CONTAINER_ROOT'] || path.join(podDir(env), 'rootfs');
  return path.join(root, target);
}

/** The pod's own address (`TWIN_POD_IP` from the kubelet, or `POD_IP` from a status.podIP fieldRef). */
export function podIp(env: NodeJS.ProcessEnv = process.env): string {
  return env['TWIN_POD_IP'] || env['POD_IP'] || '127.0.0.1';
}
