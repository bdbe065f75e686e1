import { TwinError } from '../../../core/errors.ts';

/**
 * Reading Envoy's configuration (protobuf as YAML/JSON) strictly: a field the twin does not know is
 * an error naming its path, as Envoy's own strict validation rejects an unknown field; a known field
 * the twin does not implement is an error too, never silently ignored.
 */
export class ProtoReader {
  constructor(readonly file: string) {}

  fail(path: string, why: string): never {
    throw new TwinError('TWIN_TRAFFIC_POLICY_INVALID', `${this.file}: ${path}: ${why}`);
  }

  /** The object at `path`, checked against the fields Envoy defines there (`known`) and those the twin plays (`implemented`). */
  object(
    value: unknown,
    path: string,
    known: readonly string[],
    unimplemented: readonly string[] = [],
  ): Record<string, any> {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      this.fail(path, `expected an object, got ${JSON.stringify(value)}`);
    const obj = value as Record<string, any>;
    for (const k of Object.keys(obj)) {
      if (unimplemented.includes(k))
        this.fail(`${path}.${k}`, 'not implemented by the twin (docs/traffic-policy.md)');
      if (!known.includes(k))
        this.fail(`${path}.${k}`, `unknown field (the fields here: ${known.join(', ')})`);
    }
    return obj;
  }

  array(value: unknown, path: string): any[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.fail(path, `expected a list, got ${JSON.stringify(value)}`);
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, `expected a string, got ${JSON.stringify(value)}`);
    return value;
  }

  uint(value: unknown, path: string): number {
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      this.fail(path, `expected a non-negative integer, got ${JSON.stringify(value)}`);
    return n;
  }

  /** A google.protobuf.Duration in its JSON form ("5s", "0.25s"); milliseconds. */
  duration(value: unknown, path: string): number {
    if (typeof value === 'string') {
      const m = /^(\d+(?:\.\d{1,9})?)s$/.exec(value);
      if (m) return Number(m[1]) * 1000;
    }
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const o = this.object(value, path, ['seconds', 'nanos']);
      return Number(o.seconds ?? 0) * 1000 + Number(o.nanos ?? 0) / 1e6;
    }
    return this.fail(path, `expected a duration such as "5s" or "0.25s", got ${JSON.stringify(value)}`);
  }

  /** A type.v3.FractionalPercent as a percentage (0–100). */
  fractionalPercent(value: unknown, path: string): number {
    const o = this.object(value, path, ['numerator', 'denominator']);
    const numerator = this.uint(o.numerator ?? 0, `${path}.numerator`);
    const d = o.denominator ?? 'HUNDRED';
    const scale = { HUNDRED: 1, TEN_THOUSAND: 100, MILLION: 10_000 }[d as string];
    if (scale === undefined)
      this.fail(`${path}.denominator`, `expected HUNDRED, TEN_THOUSAND or MILLION, got ${JSON.stringify(d)}`);
    return Math.min(100, numerator / scale);
  }

  /** The typed_config of an extension, checked to be of the expected `@type`. */
  typed(
    value: unknown,
    path: string,
    type: string,
    known: readonly string[],
    unimplemented: readonly string[] = [],
  ): Record<string, any> {
    const o = this.object(value ?? {}, path, ['@type', ...known], unimplemented);
    if (o['@type'] !== undefined && o['@type'] !== `type.googleapis.com/${type}`)
      this.fail(`${path}.@type`, `expected type.googleapis.com/${type}, got ${JSON.stringify(o['@type'])}`);
    return o;
  }
}
