import path from 'node:path';

/**
 * The pod's directory in the run's work directory: `TWIN_POD_DIR` from the kubelet, else derived from
 * the cluster DNS file (`<workDir>/network/…`) as `<workDir>/pods/<namespace>_<hostname>`. It outlives
 * the pod, so a StatefulSet pod recreated with the same name finds its data, as with a PVC.
 */
export function podDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['TWIN_POD_DIR']) return env['TWIN_POD_DIR'];
  const pod = `${env['TWIN_POD_NAMESPACE'] ?? 'default'}_${env['HOSTNAME'] ?? 'pod'}`;
  if (env['TWIN_DNS_FILE']) return path.join(path.dirname(path.dirname(env['TWIN_DNS_FILE'])), 'pods', pod);
  return path.resolve('.twin', 'pods', pod);
}

/** Where a container's filesystem path lives on this machine: under the pod's directory. */
export function podPath(containerPath: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(podDir(env), 'rootfs', path.resolve('/', containerPath));
}

/** The pod's own address (`TWIN_POD_IP` from the kubelet, or `POD_IP` from a status.podIP fieldRef). */
export function podIp(env: NodeJS.ProcessEnv = process.env): string {
  return env['TWIN_POD_IP'] || env['POD_IP'] || '127.0.0.1';
}
