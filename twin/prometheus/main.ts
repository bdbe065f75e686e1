import path from 'node:path';
import { podPath } from '../data/container-paths.ts';
import { FlagError, parseFlags } from './command-line.ts';
import { ConfigError } from './config/prometheus-config.ts';
import { controlPlaneClock } from './control-plane-time.ts';
import { SERVICE_ACCOUNT_DIR } from './discovery/kubernetes/kubernetes-discovery.ts';
import { PrometheusServer } from './prometheus-server.ts';

/**
 * The `prometheus` binary of the twin: what the prom/prometheus and quay.io/prometheus/prometheus
 * images bind to (infra/<system>/twin-bindings.yaml). It takes the manifest's arguments as the real
 * binary takes them and exits as it exits: 2 for a bad flag or configuration.
 *
 * In a pod (TWIN_POD_DIR set by the kubelet) container paths resolve under the pod's filesystem,
 * relative ones against the image's working directory /prometheus.
 * Twin simplification: the server listens on the pod's address when told 0.0.0.0 (pods share the
 * machine's loopback), as the twin's other data services do.
 */
const IMAGE_WORKDIR = '/prometheus';
const VERSION = 'prometheus, version 2.54.1 (branch: twin, revision: infra-twin)';

function logfmt(level: string, message: string, fields: Record<string, unknown> = {}): string {
  const quote = (v: unknown) => {
    const s = String(v);
    return /[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s;
  };
  const parts = [
    `ts=${new Date().toISOString()}`,
    'caller=main.go',
    `level=${level}`,
    `msg=${quote(message)}`,
  ];
  for (const [k, v] of Object.entries(fields)) parts.push(`${k}=${quote(v)}`);
  return `${parts.join(' ')}\n`;
}

async function main(): Promise<number> {
  const env = process.env;
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`Error parsing command line arguments: ${err.message}\n`);
    process.stdout.write('usage: prometheus [<flags>]\n');
    return 2;
  }
  if (flags.help) {
    process.stdout.write('usage: prometheus [<flags>]\n\nThe Prometheus monitoring server\n');
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const levels = ['debug', 'info', 'warn', 'error'];
  const log = (
    level: 'debug' | 'info' | 'warn' | 'error',
    message: string,
    fields?: Record<string, unknown>,
  ) => {
    if (levels.indexOf(level) < levels.indexOf(flags.logLevel)) return;
    const line =
      flags.logFormat === 'json'
        ? `${JSON.stringify({ ts: new Date().toISOString(), caller: 'main.go', level, msg: message, ...fields })}\n`
        : logfmt(level, message, fields);
    process.stderr.write(line);
  };
  const inPod = Boolean(env['TWIN_POD_DIR']);
  const hostPath = (p: string) => {
    if (!inPod) return path.resolve(p);
    return podPath(path.posix.resolve(IMAGE_WORKDIR, p), env);
  };
  for (const f of flags.features) {
    const known = [
      'agent',
      'auto-gomemlimit',
      'auto-gomaxprocs',
      'exemplar-storage',
      'expand-external-labels',
      'memory-snapshot-on-shutdown',
      'promql-at-modifier',
      'promql-negative-offset',
      'promql-per-step-stats',
      'promql-experimental-functions',
      'remote-write-receiver',
      'extra-scrape-metrics',
      'new-service-discovery-manager',
      'no-default-scrape-port',
      'native-histograms',
      'otlp-write-receiver',
      'created-timestamp-zero-ingestion',
      'concurrent-rule-eval',
      'delayed-compaction',
      'old-ui',
    ];
    if (!known.includes(f)) log('warn', 'Unknown option for --enable-feature', { option: f });
  }
  const m = /^(.*):(\d+)$/.exec(flags.listenAddress);
  if (!m) {
    log('error', 'Unable to start web listener', {
      err: `listen tcp: address ${flags.listenAddress}: missing port in address`,
    });
    return 1;
  }
  const wildcard = m[1] === '' || m[1] === '0.0.0.0' || m[1] === '[::]';
  const host = wildcard ? env['TWIN_POD_IP'] || env['POD_IP'] || '0.0.0.0' : m[1]!.replace(/^\[|\]$/g, '');
  const clock = controlPlaneClock(env);
  log('info', 'Starting Prometheus Server', { mode: 'server', version: '(version=2.54.1, branch=twin)' });
  const server = new PrometheusServer({
    flags,
    configFile: hostPath(flags.configFile),
    clock,
    host,
    port: Number(m[2]),
    env,
    serviceAccountDir: inPod ? podPath(SERVICE_ACCOUNT_DIR, env) : SERVICE_ACCOUNT_DIR,
    log,
  });
  try {
    await server.start();
  } catch (err) {
    if (err instanceof ConfigError) {
      log('error', `Error loading config (--config.file=${flags.configFile})`, {
        file: path.posix.resolve(inPod ? IMAGE_WORKDIR : process.cwd(), flags.configFile),
        err: err.message,
      });
      return 2;
    }
    log('error', 'Unable to start web listener', { err: (err as Error).message });
    return 1;
  }
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log('warn', 'Received termination request via signal, exiting gracefully...', { signal });
      void server.close().then(() => resolve(0));
    };
    process.once('SIGTERM', () => stop('terminated'));
    process.once('SIGINT', () => stop('interrupt'));
    server.onQuit(() => stop('quit'));
    process.on('SIGHUP', () => {
      server.reload().catch((err) => log('error', 'Error reloading config', { err: (err as Error).message }));
    });
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
