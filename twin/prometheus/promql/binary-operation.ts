import { formatLabels, type Labels, LabelsBuilder, labelsKey, METRIC_NAME } from '../labels.ts';
import { type BinaryOp, COMPARISON_OPS, type VectorMatching } from './ast.ts';
import { PromQLExecutionError, type Sample } from './value.ts';

/**
 * Binary operators between scalars and instant vectors (engine.go VectorBinop,
 * VectorscalarBinop, VectorAnd/Or/Unless, Prometheus v2.54): one-to-one and many-to-one matching
 * on the labels `on`/`ignoring` select (never the metric name unless listed in `on`), group_left
 * and group_right copying the listed labels from the "one" side, comparisons filtering unless
 * `bool`, and the metric name dropped by arithmetic (atan2 aside) and by `bool`.
 */
/** The operators whose result drops the metric name (shouldDropMetricName: not atan2). */
const DROPS_NAME: readonly BinaryOp[] = ['+', '-', '*', '/', '%', '^'];

/** math.Pow with Go's special cases where they differ from JavaScript's. */
function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return x ** y;
}

/** The float result of `l op r` and whether a comparison holds (always true for arithmetic). */
export function elemBinop(op: BinaryOp, l: number, r: number): [number, boolean] {
  switch (op) {
    case '+':
      return [l + r, true];
    case '-':
      return [l - r, true];
    case '*':
      return [l * r, true];
    case '/':
      return [l / r, true];
    case '^':
      return [goPow(l, r), true];
    case '%':
      return [l % r, true];
    case 'atan2':
      return [Math.atan2(l, r), true];
    case '==':
      return [l, l === r];
    case '!=':
      return [l, l !== r];
    case '>':
      return [l, l > r];
    case '<':
      return [l, l < r];
    case '>=':
      return [l, l >= r];
    case '<=':
      return [l, l <= r];
    default:
      throw new PromQLExecutionError(`operator ${JSON.stringify(op)} not allowed for Scalar operations`);
  }
}

export function scalarBinop(op: BinaryOp, l: number, r: number): number {
  const [v, keep] = elemBinop(op, l, r);
  return COMPARISON_OPS.includes(op) ? (keep ? 1 : 0) : v;
}

/** vector op scalar (or scalar op vector when `swap`). */
export function vectorScalarBinop(
  op: BinaryOp,
  vector: Sample[],
  scalar: number,
  swap: boolean,
  returnBool: boolean,
  t: number,
): Sample[] {
  const out: Sample[] = [];
  const comparison = COMPARISON_OPS.includes(op);
  for (const s of vector) {
    let [v, keep] = swap ? elemBinop(op, scalar, s.v) : elemBinop(op, s.v, scalar);
    // The vector's value is the result of a comparison filter, whichever side it is on.
    if (comparison && swap) v = s.v;
    if (returnBool) {
      v = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    const labels =
      DROPS_NAME.includes(op) || returnBool ? s.labels.filter((l) => l.name !== METRIC_NAME) : s.labels;
    out.push({ labels, v, t });
  }
  return out;
}

/** The matching signature of a label set (signatureFunc). */
function signature(labels: Labels, matching: VectorMatching): string {
  if (matching.on) return labelsKey(labels.filter((l) => matching.labels.includes(l.name)));
  return labelsKey(labels.filter((l) => l.name !== METRIC_NAME && !matching.labels.includes(l.name)));
}

function matchedLabels(labels: Labels, matching: VectorMatching): Labels {
  return matching.on
    ? labels.filter((l) => matching.labels.includes(l.name))
    : labels.filter((l) => l.name !== METRIC_NAME && !matching.labels.includes(l.name));
}

function resultMetric(
  lhs: Labels,
  rhs: Labels,
  op: BinaryOp,
  matching: VectorMatching,
  returnBool: boolean,
): Labels {
  const lb = new LabelsBuilder(lhs);
  if (DROPS_NAME.includes(op) || returnBool) lb.del(METRIC_NAME);
  if (matching.card === 'one-to-one') {
    if (matching.on) lb.keep(...matching.labels);
    else lb.del(...matching.labels);
  }
  for (const name of matching.include) {
    const v = rhs.find((l) => l.name === name)?.value ?? '';
    lb.set(name, v);
  }
  return lb.labels();
}

export function vectorBinop(
  op: BinaryOp,
  lhsIn: Sample[],
  rhsIn: Sample[],
  matching: VectorMatching,
  returnBool: boolean,
  t: number,
): Sample[] {
  switch (op) {
    case 'and':
    case 'or':
    case 'unless':
      return setOperation(op, lhsIn, rhsIn, matching);
  }
  if (lhsIn.length === 0 || rhsIn.length === 0) return [];
  const swapped = matching.card === 'one-to-many';
  const [lhs, rhs] = swapped ? [rhsIn, lhsIn] : [lhsIn, rhsIn];
  const rightSigs = new Map<string, Sample>();
  for (const rs of rhs) {
    const sig = signature(rs.labels, matching);
    const dupl = rightSigs.get(sig);
    if (dupl) {
      const side = swapped ? 'left' : 'right';
      throw new PromQLExecutionError(
        `found duplicate series for the match group ${formatLabels(matchedLabels(rs.labels, matching))} on the ${side} hand-side of the operation: [${formatLabels(rs.labels)}, ${formatLabels(dupl.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    rightSigs.set(sig, rs);
  }
  const matchedSigs = new Map<string, Set<string> | null>();
  const out: Sample[] = [];
  for (const ls of lhs) {
    const sig = signature(ls.labels, matching);
    const rs = rightSigs.get(sig);
    if (!rs) continue;
    const [fl, fr] = swapped ? [rs.v, ls.v] : [ls.v, rs.v];
    let [v, keep] = elemBinop(op, fl, fr);
    if (returnBool) v = keep ? 1 : 0;
    else if (!keep) continue;
    const metric = resultMetric(ls.labels, rs.labels, op, matching, returnBool);
    const inserted = matchedSigs.get(sig);
    if (matching.card === 'one-to-one') {
      if (inserted !== undefined)
        throw new PromQLExecutionError(
          'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
        );
      matchedSigs.set(sig, null);
    } else {
      const key = labelsKey(metric);
      if (!inserted) matchedSigs.set(sig, new Set([key]));
      else if (inserted.has(key))
        throw new PromQLExecutionError(
          'multiple matches for labels: grouping labels must ensure unique matches',
        );
      else inserted.add(key);
    }
    out.push({ labels: metric, v, t });
  }
  return out;
}

function setOperation(
  op: 'and' | 'or' | 'unless',
  lhs: Sample[],
  rhs: Sample[],
  matching: VectorMatching,
): Sample[] {
  const sig = (s: Sample) => signature(s.labels, matching);
  switch (op) {
    case 'and': {
      if (lhs.length === 0 || rhs.length === 0) return [];
      const right = new Set(rhs.map(sig));
      return lhs.filter((s) => right.has(sig(s)));
    }
    case 'or': {
      if (lhs.length === 0) return [...rhs];
      if (rhs.length === 0) return [...lhs];
      const left = new Set(lhs.map(sig));
      return [...lhs, ...rhs.filter((s) => !left.has(sig(s)))];
    }
    case 'unless': {
      if (lhs.length === 0 || rhs.length === 0) return [...lhs];
      const right = new Set(rhs.map(sig));
      return lhs.filter((s) => !right.has(sig(s)));
    }
  }
}
