import { CLUSTER_NODE_TIMEOUT_MS } from './redis-cluster-spec.ts';

/**
 * The redis.conf that the OT redis image's entrypoint (OT-CONTAINER-KIT/redis entrypoint.sh) builds
 * from its environment, with the container paths mapped under the pod's directory and the server
 * bound to the pod's address (every pod shares this machine's loopback).
 */
export interface OpstreeConfInput {
  env: NodeJS.ProcessEnv;
  podIp: string;
  hostname: string;
  /** Container path → path on this machine. */
  mapPath: (containerPath: string) => string;
  /** The additionalRedisConfig file (mapped path) when the pod has one. */
  externalConfigFile?: string;
}

export interface OpstreeConf {
  text: string;
  clusterMode: boolean;
  /** Mapped paths. */
  dataDir: string;
  nodeConfDir: string;
  nodesConf: string;
}

export function opstreeRedisConf(input: OpstreeConfInput): OpstreeConf {
  const { env, podIp, hostname, mapPath } = input;
  const dataDir = mapPath(env['DATA_DIR'] || '/data');
  const nodeConfDir = mapPath(env['NODE_CONF_DIR'] || '/node-conf');
  const clusterMode = env['SETUP_MODE'] === 'cluster';
  const lines: string[] = [
    // The image's /etc/redis/redis.conf, with bind 0.0.0.0/:: narrowed to the pod's address.
    `bind ${podIp}`,
    'tcp-backlog 511',
    'timeout 0',
    'tcp-keepalive 300',
    'daemonize no',
    'supervised no',
    `pidfile ${mapPath('/var/run/redis.pid')}`,
  ];
  if (env['REDIS_PORT']) lines.push(`port ${env['REDIS_PORT']}`);
  // set_redis_password
  if (env['REDIS_PASSWORD'])
    lines.push(
      `masterauth ${quote(env['REDIS_PASSWORD'])}`,
      `requirepass ${quote(env['REDIS_PASSWORD'])}`,
      'protected-mode yes',
    );
  else lines.push('protected-mode no');
  // redis_mode_setup
  if (clusterMode)
    lines.push(
      'cluster-enabled yes',
      `cluster-node-timeout ${CLUSTER_NODE_TIMEOUT_MS}`,
      'cluster-require-full-coverage no',
      'cluster-migration-barrier 1',
      `cluster-config-file ${nodeConfDir}/nodes.conf`,
    );
  // persistence_setup; without it the server's dir is still the pod's /data (the image's WORKDIR).
  if (env['PERSISTENCE_ENABLED'] === 'true')
    lines.push(
      'save 900 1',
      'save 300 10',
      'save 60 10000',
      'appendonly yes',
      'appendfilename "appendonly.aof"',
    );
  lines.push(`dir ${dataDir}`);
  // external_config: included last but for the announce lines, so its settings win.
  if (input.externalConfigFile) lines.push(`include ${input.externalConfigFile}`);
  // start_redis (v7: announce lines in the file; v6 passes them as arguments, the same settings).
  if (clusterMode) lines.push(`cluster-announce-ip ${podIp}`, `cluster-announce-hostname ${hostname}`);
  // Twin simplification: replicas connect from 127.0.0.1 on the shared loopback; announcing the pod address keeps INFO replication as on a pod network.
  lines.push(`replica-announce-ip ${podIp}`);
  return {
    text: `${lines.join('\n')}\n`,
    clusterMode,
    dataDir,
    nodeConfDir,
    nodesConf: `${nodeConfDir}/nodes.conf`,
  };
}

/**
 * As the entrypoint's `sed -i "/myself/ s/<ipv4>/${POD_IP}/" nodes.conf`: a pod recreated with a new
 * address keeps its node ID, slots and epochs, and announces the new address.
 */
export function rewriteMyselfAddress(nodesConf: string, podIp: string): string {
  return nodesConf
    .split('\n')
    .map((line) => (/myself/.test(line) ? line.replace(/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/, podIp) : line))
    .join('\n');
}

function quote(v: string): string {
  return /^[^\s"']+$/.test(v) ? v : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
