import { TwinError } from '../../../core/errors.ts';

export interface EnvoyFlags {
  configPath?: string;
  mode: 'serve' | 'validate';
  logLevel: string;
}

/** Flags that take a value and that the twin accepts without effect (logging, hot restart, identity). */
const VALUE_FLAGS_WITHOUT_EFFECT = new Set([
  '--log-format',
  '--component-log-level',
  '--service-cluster',
  '--service-node',
  '--service-zone',
  '--concurrency',
  '--base-id',
  '--drain-time-s',
  '--parent-shutdown-time-s',
  '--restart-epoch',
  '--drain-strategy',
  '--log-path',
]);
const BOOLEAN_FLAGS_WITHOUT_EFFECT = new Set([
  '--disable-hot-restart',
  '--use-dynamic-base-id',
  '--allow-unknown-static-fields',
  '--reject-unknown-dynamic-fields',
]);

/**
 * Envoy's command line as the twin's binary takes it (https://www.envoyproxy.io/docs/envoy/latest/operations/cli):
 * -c/--config-path, --mode serve|validate, -l/--log-level, and the flags of logging, identity and hot
 * restart (accepted, no effect). --config-yaml and unknown flags are errors.
 */
export function parseEnvoyFlags(argv: readonly string[]): EnvoyFlags {
  const out: EnvoyFlags = { mode: 'serve', logLevel: 'info' };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const [flag, inline] =
      raw.startsWith('--') && eq > 0 ? [raw.slice(0, eq), raw.slice(eq + 1)] : [raw, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new TwinError('TWIN_TRAFFIC_POLICY_INVALID', `envoy: ${flag} needs a value`);
      return v;
    };
    if (flag === '-c' || flag === '--config-path') out.configPath = value();
    else if (flag === '--mode') {
      const m = value();
      if (m !== 'serve' && m !== 'validate')
        throw new TwinError(
          'TWIN_TRAFFIC_POLICY_INVALID',
          `envoy: --mode ${m}: the twin implements serve and validate`,
        );
      out.mode = m;
    } else if (flag === '-l' || flag === '--log-level') out.logLevel = value();
    else if (VALUE_FLAGS_WITHOUT_EFFECT.has(flag)) value();
    else if (BOOLEAN_FLAGS_WITHOUT_EFFECT.has(flag)) {
      // accepted
    } else if (flag === '--config-yaml')
      throw new TwinError(
        'TWIN_TRAFFIC_POLICY_INVALID',
        'envoy: --config-yaml is not implemented by the twin; mount the bootstrap and pass -c',
      );
    else
      throw new TwinError(
        'TWIN_TRAFFIC_POLICY_INVALID',
        `envoy: unknown flag ${flag} (docs/traffic-policy.md lists the flags the twin takes)`,
      );
  }
  if (!out.configPath)
    throw new TwinError('TWIN_TRAFFIC_POLICY_INVALID', 'envoy: no configuration: pass -c <bootstrap file>');
  return out;
}
