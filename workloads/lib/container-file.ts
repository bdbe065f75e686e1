import path from 'node:path';

/**
 * Where a file of the container's filesystem (a volume's, e.g. the service-account token under
 * /var/run/secrets/kubernetes.io/serviceaccount) is for this process. In a container it is the path
 * itself. A live container of the twin runs as a process of the machine, and the twin's kubelet hands
 * over where each volume mount lies in TWIN_VOLUME_MOUNTS ([{ mountPath, path }]).
 */
export function containerFile(file: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = env['TWIN_VOLUME_MOUNTS'];
  if (!raw) return file;
  const target = path.posix.resolve('/', file);
  let best: { mountPath: string; path: string } | undefined;
  for (const m of JSON.parse(raw) as Array<{ mountPath: string; path: string }>) {
    const mount = path.posix.resolve('/', m.mountPath);
    if (
      (target === mount || target.startsWith(`${mount}/`)) &&
      (!best || mount.length > best.mountPath.length)
    )
      best = { mountPath: mount, path: m.path };
  }
  return best ? path.join(best.path, path.posix.relative(best.mountPath, target)) : file;
}
