import { quantile } from './histogram-quantile.ts';
import { kahanSumInc } from './value.ts';

/**
 * The functions over a range vector's points (promql/functions.go, Prometheus v2.54). Each takes
 * one series' points within the window and returns the value, or undefined for no output.
 */
export interface Window {
  ts: number[];
  vs: number[];
  /** The window as selected: [rangeStart, rangeEnd] in ms, and its length. */
  rangeStart: number;
  rangeEnd: number;
  rangeMs: number;
}

/**
 * rate, increase and delta (extrapolatedRate): the difference between the first and last sample
 * (with counter resets added back for counters), extrapolated to the window's edges when the
 * samples come within 1.1× the average sample interval of them (else by half an interval), never
 * extrapolating a counter below zero.
 */
export function extrapolatedRate(w: Window, isCounter: boolean, isRate: boolean): number | undefined {
  const n = w.vs.length;
  if (n < 2) return undefined;
  let result = w.vs[n - 1]! - w.vs[0]!;
  if (isCounter) {
    let last = 0;
    for (const v of w.vs) {
      if (v < last) result += last;
      last = v;
    }
  }
  const firstT = w.ts[0]!;
  const lastT = w.ts[n - 1]!;
  let durationToStart = (firstT - w.rangeStart) / 1000;
  const durationToEnd = (w.rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);
  if (isCounter && result > 0 && w.vs[0]! >= 0) {
    const durationToZero = sampledInterval * (w.vs[0]! / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  extrapolateToInterval += durationToStart < threshold ? durationToStart : averageDurationBetweenSamples / 2;
  extrapolateToInterval += durationToEnd < threshold ? durationToEnd : averageDurationBetweenSamples / 2;
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= w.rangeMs / 1000;
  return result * factor;
}

/** irate and idelta (instantValue): the last two samples; irate treats a drop as a counter reset. */
export function instantValue(w: Window, isRate: boolean): number | undefined {
  const n = w.vs.length;
  if (n < 2) return undefined;
  const last = w.vs[n - 1]!;
  const previous = w.vs[n - 2]!;
  let result = isRate && last < previous ? last : last - previous;
  const sampledInterval = w.ts[n - 1]! - w.ts[n - 2]!;
  if (sampledInterval === 0) return undefined;
  if (isRate) result /= sampledInterval / 1000;
  return result;
}

/** Least squares over (seconds since interceptTime, value) with Kahan sums (linearRegression). */
export function linearRegression(w: Window, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0;
  let cX = 0;
  let sumY = 0;
  let cY = 0;
  let sumXY = 0;
  let cXY = 0;
  let sumX2 = 0;
  let cX2 = 0;
  const initY = w.vs[0]!;
  let constY = true;
  for (let i = 0; i < w.vs.length; i++) {
    const v = w.vs[i]!;
    if (constY && i > 0 && v !== initY) constY = false;
    n++;
    const x = (w.ts[i]! - interceptTime) / 1e3;
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(v, sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * v, sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [Number.NaN, Number.NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  return [slope, sumY / n - (slope * sumX) / n];
}

function isInf(v: number): boolean {
  return v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY;
}

export function avgOverTime(vs: number[]): number {
  let mean = 0;
  let count = 0;
  let c = 0;
  for (const f of vs) {
    count++;
    if (isInf(mean)) {
      if (isInf(f) && mean > 0 === f > 0) continue;
      if (!isInf(f) && !Number.isNaN(f)) continue;
    }
    [mean, c] = kahanSumInc(f / count - mean / count, mean, c);
  }
  return isInf(mean) ? mean : mean + c;
}

export function sumOverTime(vs: number[]): number {
  let sum = 0;
  let c = 0;
  for (const f of vs) [sum, c] = kahanSumInc(f, sum, c);
  return isInf(sum) ? sum : sum + c;
}

export function varianceOverTime(vs: number[]): number {
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (const f of vs) {
    count++;
    const delta = f - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (f - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

export function maxOverTime(vs: number[]): number {
  let max = vs[0]!;
  for (const f of vs) if (f > max || Number.isNaN(max)) max = f;
  return max;
}

export function minOverTime(vs: number[]): number {
  let min = vs[0]!;
  for (const f of vs) if (f < min || Number.isNaN(min)) min = f;
  return min;
}

export function madOverTime(vs: number[]): number {
  const median = quantile(0.5, vs);
  return quantile(
    0.5,
    vs.map((v) => Math.abs(v - median)),
  );
}

export function changes(vs: number[]): number {
  let n = 0;
  for (let i = 1; i < vs.length; i++) {
    const cur = vs[i]!;
    const prev = vs[i - 1]!;
    if (!(cur === prev || (Number.isNaN(cur) && Number.isNaN(prev)))) n++;
  }
  return n;
}

export function resets(vs: number[]): number {
  let n = 0;
  for (let i = 1; i < vs.length; i++) if (vs[i]! < vs[i - 1]!) n++;
  return n;
}

/** holt_winters (double exponential smoothing) with smoothing factor sf and trend factor tf. */
export function holtWinters(vs: number[], sf: number, tf: number): number | undefined {
  if (vs.length < 2) return undefined;
  let s0 = 0;
  let s1 = vs[0]!;
  let b = vs[1]! - vs[0]!;
  for (let i = 1; i < vs.length; i++) {
    const x = sf * vs[i]!;
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}
