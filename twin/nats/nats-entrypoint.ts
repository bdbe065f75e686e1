/**
 * The nats image (ENTRYPOINT nats-server) on the twin: Debian's nats-server run with the container's
 * own arguments. Paths the arguments name (--store_dir, --config, --pid, --log) are the container's,
 * so they are mapped to the pod's volumes and writable layer.
 *
 * Twin simplification: nats-server binds every address (0.0.0.0) by default, which in a pod's network namespace is the pod's own address; the twin's pods share the host's loopback and nats-server (Go) binds with raw system calls the pod-address preload cannot rebind, so the entrypoint adds `--addr <pod address>` where the arguments name none (https://docs.nats.io/running-a-nats-service/introduction/flags).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { requireBinary } from '../data/binaries.ts';
import { podPath } from '../data/container-paths.ts';
import { runEntrypoint, runServer } from '../data/entrypoint.ts';
import { natsArguments } from './nats-arguments.ts';

const log = (m: string) => process.stderr.write(`${new Date().toISOString()} nats-pod: ${m}\n`);

async function main(): Promise<number> {
  const bin = requireBinary({ name: 'nats-server', debianPackage: 'nats-server', dirs: ['/usr/sbin'] });
  const args = natsArguments(process.argv.slice(2), process.env);
  for (const [i, a] of args.entries())
    if ((a === '-sd' || a === '--store_dir') && args[i + 1]) mkdirSync(args[i + 1]!, { recursive: true });
  mkdirSync(path.dirname(podPath('/tmp/x', process.env)), { recursive: true });
  log(`nats-server ${args.join(' ')}`);
  return runServer([bin, ...args]).exited;
}

runEntrypoint(main, log);
