/**
 * The `apache/kafka` image run live by the twin's kubelet (bind the image to this entry). The node is
 * configured as the image configures Kafka: from `KAFKA_*` variables (and `CLUSTER_ID`), appended to
 * `/mnt/shared/config/server.properties` when that file is mounted, or from the image's defaults; or,
 * when the container's arguments run `kafka-server-start.sh <file> [--override k=v]…`, from that file.
 * Listeners without a host bind the pod's address; `log.dirs` is a container path, so on a
 * PersistentVolumeClaim mount the log outlives the pod. SIGTERM runs a controlled shutdown.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isTwinError } from '../../core/errors.ts';
import { podIp, podPath } from '../data/container-paths.ts';
import { brokerConfig, parseProperties } from './broker/broker-config.ts';
import { KafkaNode, MetaPropertiesError } from './broker/kafka-node.ts';

const log = (m: string) => process.stderr.write(`[${new Date().toISOString()}] twin-kafka: ${m}\n`);

function configFromArgs(args: string[]): { env: NodeJS.ProcessEnv; file?: Map<string, string> } {
  if (args.length === 0 || (args.length === 1 && /\/etc\/kafka\/docker\/run$/.test(args[0]!))) {
    const mounted = podPath('/mnt/shared/config/server.properties');
    if (existsSync(mounted)) {
      log(
        'user provided kafka configs found via file input; properties from environment variables are appended',
      );
      return { env: process.env, file: parseProperties(readFileSync(mounted, 'utf8')) };
    }
    return { env: process.env };
  }
  if (/kafka-server-start(\.sh)?$/.test(args[0]!) && args[1]) {
    const file = parseProperties(readFileSync(podPath(args[1]), 'utf8'));
    for (let i = 2; i < args.length; i++) {
      if (args[i] === '--override' && args[i + 1]) {
        const [k, ...v] = args[++i]!.split('=');
        file.set(k!, v.join('='));
      } else throw new Error(`kafka-server-start.sh: unsupported argument ${args[i]}`);
    }
    // The script reads only its properties file; CLUSTER_ID still formats the directory as the image's run does.
    return { env: { CLUSTER_ID: process.env['CLUSTER_ID'] }, file };
  }
  throw new Error(
    `the twin's Kafka binding runs the apache/kafka image's own startup (no arguments, /etc/kafka/docker/run, or kafka-server-start.sh <properties>); got arguments ${JSON.stringify(args)}`,
  );
}

async function main(): Promise<void> {
  let node: KafkaNode;
  try {
    const { env, file } = configFromArgs(process.argv.slice(2));
    const config = brokerConfig(env, file);
    for (const k of config.unknown)
      log(`WARN The configuration '${k}' was supplied but isn't a known config.`);
    log(
      `node ${config.nodeId} (${[config.roles.broker && 'broker', config.roles.controller && 'controller'].filter(Boolean).join(',')}) in cluster ${config.clusterId}, log.dirs ${config.logDir}`,
    );
    node = new KafkaNode(config, {
      bindAddress: podIp(),
      hostPath: (p) => podPath(p),
      log,
      fatal: (m) => {
        log(`ERROR ${m}`);
        process.exit(1);
      },
    });
    await node.start();
  } catch (err) {
    log(
      isTwinError(err) || err instanceof MetaPropertiesError
        ? `ERROR ${(err as Error).message}`
        : `ERROR ${(err as Error).stack ?? err}`,
    );
    process.exit(1);
  }
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      log(`${sig}: controlled shutdown`);
      void node.shutdown().finally(() => process.exit(0));
    });
}

void main();
