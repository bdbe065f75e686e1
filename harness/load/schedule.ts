import { parseDuration } from '../../load/duration.ts';
import type { ScenarioConfig } from '../../load/profile.ts';

type ArrivalScenario = Extract<
  ScenarioConfig,
  { executor: 'constant-arrival-rate' | 'ramping-arrival-rate' }
>;
type RampingVus = Extract<ScenarioConfig, { executor: 'ramping-vus' }>;

/**
 * The start times (ms from the scenario's start) of an arrival-rate executor's iterations, as k6
 * spaces them: fractionally, `rate` per `timeUnit`; for ramping-arrival-rate the rate changes
 * linearly within a stage from the previous target to the stage's target, and the n-th iteration
 * starts when the integral of the rate reaches n.
 */
export function* arrivalTimes(s: ArrivalScenario): Generator<number> {
  const unit = parseDuration(s.timeUnit ?? '1s')!;
  if (s.executor === 'constant-arrival-rate') {
    const total = parseDuration(s.duration)!;
    const every = unit / s.rate;
    for (let i = 0; ; i++) {
      const t = i * every;
      if (t >= total - 1e-9) return;
      yield t;
    }
  }
  let r0 = (s.startRate ?? 0) / unit;
  let stageStart = 0;
  let before = 0;
  let n = 0;
  for (const st of s.stages) {
    const T = parseDuration(st.duration)!;
    const r1 = st.target / unit;
    const inStage = ((r0 + r1) / 2) * T;
    while (n < before + inStage - 1e-9) {
      const c = n - before;
      let t: number;
      if (Math.abs(r1 - r0) < 1e-15) t = c / r0;
      else {
        const a = (r1 - r0) / (2 * T);
        t = (-r0 + Math.sqrt(r0 * r0 + 4 * a * c)) / (2 * a);
      }
      yield stageStart + Math.min(t, T);
      n++;
    }
    before += inStage;
    stageStart += T;
    r0 = r1;
  }
}

/** ramping-vus: the VU target at `t` ms (linear within each stage from the previous target). */
export function vuTarget(s: RampingVus, t: number): number {
  let from = s.startVUs ?? 1;
  let at = 0;
  for (const st of s.stages) {
    const T = parseDuration(st.duration)!;
    if (t < at + T) return Math.round(T === 0 ? st.target : from + ((st.target - from) * (t - at)) / T);
    at += T;
    from = st.target;
  }
  return from;
}
