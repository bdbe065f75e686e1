import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isTwinError } from '../../../core/errors.ts';
import { podIp, podPath } from '../../data/container-paths.ts';
import { parseBootstrap } from './envoy-bootstrap.ts';
import { parseEnvoyFlags } from './envoy-command-line.ts';
import { EnvoyServer } from './envoy-server.ts';

/**
 * The `envoy` binary of the twin: what the envoyproxy/envoy image binds to (infra/<system>/twin-bindings.yaml).
 * It takes the manifest's command line (-c the mounted bootstrap), reads the bootstrap strictly and
 * serves it with the traffic-policy engine (docs/traffic-policy.md). A configuration error exits 1, as
 * Envoy does; `--mode validate` checks the file and exits.
 * Twin simplification: listeners told 0.0.0.0 listen on the pod's address (pods share the machine's loopback).
 */
async function main(): Promise<number> {
  const env = process.env;
  const inPod = Boolean(env['TWIN_POD_DIR']);
  const hostPath = (p: string) => (inPod ? podPath(path.posix.resolve('/', p), env) : path.resolve(p));
  let flags: ReturnType<typeof parseEnvoyFlags>;
  let server: EnvoyServer;
  try {
    flags = parseEnvoyFlags(process.argv.slice(2));
    const file = hostPath(flags.configPath!);
    const bootstrap = parseBootstrap(readFileSync(file, 'utf8'), flags.configPath!);
    if (flags.mode === 'validate') {
      process.stdout.write(`configuration '${flags.configPath}' OK\n`);
      return 0;
    }
    server = new EnvoyServer(bootstrap, {
      readFile: (p) => readFileSync(hostPath(p)),
      wildcardHost: inPod ? podIp(env) : '0.0.0.0',
      log: (m) => process.stderr.write(`[warning][envoy] ${m}\n`),
    });
    await server.start();
  } catch (err) {
    process.stderr.write(
      `[critical][main] error initializing configuration: ${isTwinError(err) ? err.message : (err as Error).stack}\n`,
    );
    return 1;
  }
  for (const [name, a] of server.addresses)
    process.stderr.write(`[info][config] listener ${name} on ${a.host}:${a.port}\n`);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
  await server.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
