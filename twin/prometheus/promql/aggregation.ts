import { formatGoFloat } from '../go-float.ts';
import { isValidLabelName, type Labels, LabelsBuilder, labelsKey, METRIC_NAME } from '../labels.ts';
import type { AggregateOp } from './ast.ts';
import { quantile } from './histogram-quantile.ts';
import { kahanSumInc, PromQLExecutionError, type Sample } from './value.ts';

/**
 * Aggregation operators (engine.go aggregation, Prometheus v2.54): `by` keeps only the listed
 * labels, `without` drops them and the metric name; groups come out in the order they were first
 * seen; topk/bottomk keep the samples' own labels.
 */
export function aggregate(
  op: AggregateOp,
  samples: Sample[],
  grouping: string[],
  without: boolean,
  param: number | string | undefined,
  t: number,
): Sample[] {
  const groupLabels = (labels: Labels): Labels => {
    const lb = new LabelsBuilder(labels);
    if (without) lb.del(...grouping, METRIC_NAME);
    else lb.keep(...grouping);
    return lb.labels();
  };

  if (op === 'count_values') {
    const label = param as string;
    if (!isValidLabelName(label))
      throw new PromQLExecutionError(`invalid label name ${JSON.stringify(label)}`);
    const counts = new Map<string, Sample>();
    for (const s of samples) {
      const labels = new LabelsBuilder(groupLabels(s.labels)).set(label, formatGoFloat(s.v)).labels();
      const key = labelsKey(labels);
      const g = counts.get(key);
      if (g) g.v++;
      else counts.set(key, { labels, v: 1, t });
    }
    return [...counts.values()];
  }

  const groups = new Map<string, { labels: Labels; members: Sample[] }>();
  for (const s of samples) {
    const labels = groupLabels(s.labels);
    const key = labelsKey(labels);
    let g = groups.get(key);
    if (!g) {
      g = { labels, members: [] };
      groups.set(key, g);
    }
    g.members.push(s);
  }

  const out: Sample[] = [];
  for (const g of groups.values()) {
    const values = g.members.map((s) => s.v);
    switch (op) {
      case 'sum': {
        let sum = 0;
        let c = 0;
        for (const v of values) [sum, c] = kahanSumInc(v, sum, c);
        out.push({ labels: g.labels, v: sum + c, t });
        break;
      }
      case 'avg': {
        // Kahan sum divided by the count; an incremental mean once the sum overflows.
        let sum = 0;
        let c = 0;
        let incremental = false;
        let mean = 0;
        let n = 0;
        const isInf = (x: number) => x === Number.POSITIVE_INFINITY || x === Number.NEGATIVE_INFINITY;
        for (const v of values) {
          n++;
          if (!incremental) {
            const [ns, nc] = kahanSumInc(v, sum, c);
            if (!isInf(ns)) {
              [sum, c] = [ns, nc];
              continue;
            }
            incremental = true;
            mean = sum / (n - 1);
            c /= n - 1;
          }
          if (isInf(mean)) {
            if (isInf(v) && mean > 0 === v > 0) continue;
            if (!isInf(v) && !Number.isNaN(v)) continue;
          }
          [mean, c] = kahanSumInc(v / n - (mean + c) / n, mean, c);
        }
        out.push({ labels: g.labels, v: incremental ? mean + c : (sum + c) / n, t });
        break;
      }
      case 'count':
        out.push({ labels: g.labels, v: values.length, t });
        break;
      case 'group':
        out.push({ labels: g.labels, v: 1, t });
        break;
      case 'min':
      case 'max': {
        let r = values[0]!;
        for (const v of values) if ((op === 'min' ? r > v : r < v) || Number.isNaN(r)) r = v;
        out.push({ labels: g.labels, v: r, t });
        break;
      }
      case 'stddev':
      case 'stdvar': {
        let mean = 0;
        let m2 = 0;
        let n = 0;
        for (const v of values) {
          n++;
          const delta = v - mean;
          mean += delta / n;
          m2 += delta * (v - mean);
        }
        const variance = m2 / n;
        out.push({ labels: g.labels, v: op === 'stddev' ? Math.sqrt(variance) : variance, t });
        break;
      }
      case 'quantile':
        out.push({ labels: g.labels, v: quantile(param as number, values), t });
        break;
      case 'topk':
      case 'bottomk':
        out.push(...selectK(op, g.members, param as number, t));
        break;
    }
  }
  return out;
}

/** topk/bottomk: the first k by value (ties: the earlier sample), NaN last; output best first. */
function selectK(op: 'topk' | 'bottomk', members: Sample[], k: number, t: number): Sample[] {
  if (!(k >= 1)) return [];
  if (k > Number.MAX_SAFE_INTEGER) throw new PromQLExecutionError(`Scalar value ${k} overflows int64`);
  const n = Math.min(Math.floor(k), members.length);
  // "better" ranks NaN below every number, as Prometheus' heaps do.
  const better = (a: number, b: number) =>
    Number.isNaN(b) ? !Number.isNaN(a) : !Number.isNaN(a) && (op === 'topk' ? a > b : a < b);
  const chosen: Sample[] = [];
  for (const s of members) {
    if (chosen.length < n) {
      chosen.push(s);
      continue;
    }
    let worst = 0;
    for (let i = 1; i < chosen.length; i++) if (better(chosen[worst]!.v, chosen[i]!.v)) worst = i;
    if (better(s.v, chosen[worst]!.v)) chosen[worst] = s;
  }
  return chosen
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (better(a.s.v, b.s.v) ? -1 : better(b.s.v, a.s.v) ? 1 : a.i - b.i))
    .map(({ s }) => ({ labels: s.labels, v: s.v, t }));
}
