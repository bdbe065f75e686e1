import { DurationError, parsePrometheusDuration } from './prometheus-duration.ts';

/**
 * The command line of the prometheus binary v2.54 (cmd/prometheus/main.go, kingpin): every flag it
 * has, hidden ones included, parsed as kingpin parses them (`--flag=value` or `--flag value`,
 * `--flag` / `--no-flag` for booleans, a flag given twice is an error unless it repeats). An
 * unknown flag is rejected as Prometheus rejects it.
 */
type FlagKind =
  | 'string'
  | 'bool'
  | 'duration'
  | 'int'
  | 'float'
  | 'bytes'
  | 'strings'
  | 'goduration'
  | 'enum';

interface FlagSpec {
  kind: FlagKind;
  default?: string;
  values?: string[];
}

const FLAGS: Record<string, FlagSpec> = {
  'config.file': { kind: 'string', default: 'prometheus.yml' },
  'web.listen-address': { kind: 'string', default: '0.0.0.0:9090' },
  'auto-gomemlimit.ratio': { kind: 'float', default: '0.9' },
  'web.config.file': { kind: 'string', default: '' },
  'web.read-timeout': { kind: 'duration', default: '5m' },
  'web.max-connections': { kind: 'int', default: '512' },
  'web.external-url': { kind: 'string' },
  'web.route-prefix': { kind: 'string' },
  'web.user-assets': { kind: 'string' },
  'web.enable-lifecycle': { kind: 'bool', default: 'false' },
  'web.enable-admin-api': { kind: 'bool', default: 'false' },
  'web.enable-remote-write-receiver': { kind: 'bool', default: 'false' },
  'web.console.templates': { kind: 'string', default: 'consoles' },
  'web.console.libraries': { kind: 'string', default: 'console_libraries' },
  'web.page-title': { kind: 'string', default: 'Prometheus Time Series Collection and Processing Server' },
  'web.cors.origin': { kind: 'string', default: '.*' },
  'storage.tsdb.path': { kind: 'string', default: 'data/' },
  'storage.tsdb.min-block-duration': { kind: 'duration', default: '2h' },
  'storage.tsdb.max-block-duration': { kind: 'duration' },
  'storage.tsdb.max-block-chunk-segment-size': { kind: 'bytes' },
  'storage.tsdb.wal-segment-size': { kind: 'bytes' },
  'storage.tsdb.retention': { kind: 'duration' },
  'storage.tsdb.retention.time': { kind: 'duration' },
  'storage.tsdb.retention.size': { kind: 'bytes' },
  'storage.tsdb.no-lockfile': { kind: 'bool', default: 'false' },
  'storage.tsdb.allow-overlapping-blocks': { kind: 'bool', default: 'true' },
  'storage.tsdb.wal-compression': { kind: 'bool', default: 'true' },
  'storage.tsdb.wal-compression-type': { kind: 'enum', default: 'snappy', values: ['snappy', 'zstd'] },
  'storage.tsdb.head-chunks-write-queue-size': { kind: 'int', default: '0' },
  'storage.tsdb.samples-per-chunk': { kind: 'int', default: '120' },
  'storage.agent.path': { kind: 'string', default: 'data-agent/' },
  'storage.agent.wal-segment-size': { kind: 'bytes' },
  'storage.agent.wal-compression': { kind: 'bool', default: 'true' },
  'storage.agent.wal-compression-type': { kind: 'enum', default: 'snappy', values: ['snappy', 'zstd'] },
  'storage.agent.wal-truncate-frequency': { kind: 'duration' },
  'storage.agent.retention.min-time': { kind: 'duration' },
  'storage.agent.retention.max-time': { kind: 'duration' },
  'storage.agent.no-lockfile': { kind: 'bool', default: 'false' },
  'storage.remote.flush-deadline': { kind: 'duration', default: '1m' },
  'storage.remote.read-sample-limit': { kind: 'int', default: '5e7' },
  'storage.remote.read-concurrent-limit': { kind: 'int', default: '10' },
  'storage.remote.read-max-bytes-in-frame': { kind: 'int', default: '1048576' },
  'rules.alert.for-outage-tolerance': { kind: 'duration', default: '1h' },
  'rules.alert.for-grace-period': { kind: 'duration', default: '10m' },
  'rules.alert.resend-delay': { kind: 'duration', default: '1m' },
  'rules.max-concurrent-evals': { kind: 'int', default: '4' },
  'scrape.adjust-timestamps': { kind: 'bool', default: 'true' },
  'scrape.timestamp-tolerance': { kind: 'goduration', default: '2ms' },
  'alertmanager.notification-queue-capacity': { kind: 'int', default: '10000' },
  'alertmanager.drain-notification-queue-on-shutdown': { kind: 'bool', default: 'true' },
  'alertmanager.timeout': { kind: 'string' },
  'query.lookback-delta': { kind: 'duration', default: '5m' },
  'query.timeout': { kind: 'duration', default: '2m' },
  'query.max-concurrency': { kind: 'int', default: '20' },
  'query.max-samples': { kind: 'int', default: '50000000' },
  'scrape.discovery-reload-interval': { kind: 'duration', default: '5s' },
  'enable-feature': { kind: 'strings', default: '' },
  'log.level': { kind: 'enum', default: 'info', values: ['debug', 'info', 'warn', 'error'] },
  'log.format': { kind: 'enum', default: 'logfmt', values: ['logfmt', 'json'] },
  'write-documentation': { kind: 'bool', default: 'false' },
  help: { kind: 'bool', default: 'false' },
  'help-long': { kind: 'bool', default: 'false' },
  'help-man': { kind: 'bool', default: 'false' },
  version: { kind: 'bool', default: 'false' },
};

export class FlagError extends Error {
  override name = 'FlagError';
}

export interface PrometheusFlags {
  configFile: string;
  listenAddress: string;
  storagePath: string;
  /** Retention in ms (15d when neither retention flag nor a size limit is given). */
  retentionMs: number;
  enableLifecycle: boolean;
  lookbackDeltaMs: number;
  queryTimeoutMs: number;
  queryMaxSamples: number;
  features: string[];
  logLevel: string;
  logFormat: string;
  help: boolean;
  version: boolean;
}

function checkValue(name: string, spec: FlagSpec, value: string): void {
  switch (spec.kind) {
    case 'duration':
      try {
        parsePrometheusDuration(value);
      } catch (err) {
        if (err instanceof DurationError) throw new FlagError(err.message);
        throw err;
      }
      return;
    case 'int':
      if (!/^[+-]?\d+$/.test(value) && !(name === 'storage.remote.read-sample-limit' && value === '5e7'))
        throw new FlagError(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
      return;
    case 'float':
      if (Number.isNaN(Number(value)))
        throw new FlagError(`strconv.ParseFloat: parsing ${JSON.stringify(value)}: invalid syntax`);
      return;
    case 'bytes':
      if (!/^\d+(B|KB|MB|GB|TB|PB|EB|KiB|MiB|GiB|TiB|PiB|EiB)$/.test(value) && value !== '0')
        throw new FlagError(`units: unknown unit in ${JSON.stringify(value)}`);
      return;
    case 'goduration':
      if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value))
        throw new FlagError(`time: invalid duration ${JSON.stringify(value)}`);
      return;
    case 'enum':
      if (!spec.values!.includes(value))
        throw new FlagError(`enum value must be one of ${spec.values!.join(',')}, got '${value}'`);
      return;
    case 'bool':
      if (!['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False'].includes(value))
        throw new FlagError(`strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
      return;
    default:
      return;
  }
}

/** kingpin's parse of the prometheus command line; FlagError carries kingpin's message. */
export function parseFlags(argv: readonly string[]): PrometheusFlags {
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new FlagError(`unexpected ${argv[i + 1]}`);
      break;
    }
    if (arg === '-h') {
      values.set('help', ['true']);
      continue;
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1)
        throw new FlagError(`unknown short flag '${arg.slice(0, 2)}'`);
      throw new FlagError(`unexpected ${arg}`);
    }
    const eq = arg.indexOf('=');
    let name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    let spec = FLAGS[name];
    if (!spec && name.startsWith('no-') && FLAGS[name.slice(3)]?.kind === 'bool' && value === undefined) {
      name = name.slice(3);
      spec = FLAGS[name];
      value = 'false';
    }
    if (!spec) throw new FlagError(`unknown long flag '--${name}'`);
    if (spec.kind === 'bool') value ??= 'true';
    else if (value === undefined) {
      if (i + 1 >= argv.length) throw new FlagError(`expected argument for flag '--${name}'`);
      value = argv[++i]!;
    }
    checkValue(name, spec, value);
    const previous = values.get(name);
    if (previous && spec.kind !== 'strings') throw new FlagError(`flag '${name}' cannot be repeated`);
    values.set(name, [...(previous ?? []), value]);
  }
  const get = (name: string) => values.get(name)?.at(-1) ?? FLAGS[name]!.default ?? '';
  const bool = (name: string) => ['true', '1', 't', 'TRUE', 'True'].includes(get(name));
  const retention =
    values.get('storage.tsdb.retention.time')?.[0] ?? values.get('storage.tsdb.retention')?.[0];
  return {
    configFile: get('config.file'),
    listenAddress: get('web.listen-address'),
    storagePath: get('storage.tsdb.path'),
    retentionMs: retention ? parsePrometheusDuration(retention) || 15 * 86_400_000 : 15 * 86_400_000,
    enableLifecycle: bool('web.enable-lifecycle'),
    lookbackDeltaMs: parsePrometheusDuration(get('query.lookback-delta')),
    queryTimeoutMs: parsePrometheusDuration(get('query.timeout')),
    queryMaxSamples: Number(get('query.max-samples')),
    features: (values.get('enable-feature') ?? []).flatMap((v) => v.split(',')).filter((f) => f !== ''),
    logLevel: get('log.level'),
    logFormat: get('log.format'),
    help: bool('help') || bool('help-long') || bool('help-man'),
    version: bool('version'),
  };
}
