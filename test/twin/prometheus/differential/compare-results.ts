/**
 * Compares two Prometheus API responses: same status and result type, same series, values equal up
 * to float rounding (relative 1e-9: the two engines may sum in a different order), NaN equal to
 * NaN. Result order is compared only where PromQL defines it (sort, sort_desc).
 */
export interface ApiBody {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: any };
}

function close(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) && Number.isNaN(y)) return a === b;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
}

const key = (metric: Record<string, string>) =>
  JSON.stringify(Object.entries(metric).sort(([p], [q]) => (p < q ? -1 : 1)));

/** Undefined when equivalent, else what differs. */
export function diffResponses(twin: ApiBody, reference: ApiBody, ordered: boolean): string | undefined {
  if (twin.status !== reference.status)
    return `status ${twin.status} (${twin.error ?? ''}) vs ${reference.status} (${reference.error ?? ''})`;
  if (twin.status === 'error') {
    if (twin.errorType !== reference.errorType)
      return `errorType ${twin.errorType} vs ${reference.errorType}`;
    if (twin.error !== reference.error)
      return `error ${JSON.stringify(twin.error)} vs ${JSON.stringify(reference.error)}`;
    return undefined;
  }
  const a = twin.data!;
  const b = reference.data!;
  if (a.resultType !== b.resultType) return `resultType ${a.resultType} vs ${b.resultType}`;
  if (a.resultType === 'scalar' || a.resultType === 'string') {
    if (a.result[0] !== b.result[0]) return `time ${a.result[0]} vs ${b.result[0]}`;
    return close(a.result[1], b.result[1]) ? undefined : `value ${a.result[1]} vs ${b.result[1]}`;
  }
  const left: any[] = a.result;
  const right: any[] = b.result;
  if (left.length !== right.length)
    return `${left.length} series vs ${right.length}: ${JSON.stringify(left.map((s) => s.metric))} vs ${JSON.stringify(right.map((s) => s.metric))}`;
  if (ordered) {
    for (let i = 0; i < left.length; i++)
      if (key(left[i].metric) !== key(right[i].metric)) return `order differs at ${i}`;
  }
  const byKey = new Map(right.map((s) => [key(s.metric), s]));
  for (const s of left) {
    const r = byKey.get(key(s.metric));
    if (!r) return `series ${key(s.metric)} only in the twin`;
    if (a.resultType === 'vector') {
      if (s.value[0] !== r.value[0]) return `${key(s.metric)}: time ${s.value[0]} vs ${r.value[0]}`;
      if (!close(s.value[1], r.value[1])) return `${key(s.metric)}: ${s.value[1]} vs ${r.value[1]}`;
    } else {
      if (s.values.length !== r.values.length)
        return `${key(s.metric)}: ${s.values.length} points vs ${r.values.length}: ${JSON.stringify(s.values)} vs ${JSON.stringify(r.values)}`;
      for (let i = 0; i < s.values.length; i++) {
        if (s.values[i][0] !== r.values[i][0])
          return `${key(s.metric)}[${i}]: time ${s.values[i][0]} vs ${r.values[i][0]}`;
        if (!close(s.values[i][1], r.values[i][1]))
          return `${key(s.metric)}[${i}] at ${s.values[i][0]}: ${s.values[i][1]} vs ${r.values[i][1]}`;
      }
    }
  }
  return undefined;
}
