import { type Clock, ScaledClock } from '../../kube/clock.ts';

/**
 * The time the twin's Prometheus keeps: the twin's control-plane clock, not the machine's. The
 * kubelet hands every live container the clock's scale and one reading of it
 * (TWIN_CLOCK_SCALE, TWIN_CLOCK_VIRTUAL_MS at TWIN_CLOCK_REAL_MS of Date.now()), an implementation
 * detail of the twin like TWIN_DNS_FILE, never configuration the real image reads. Scrape
 * intervals, sample timestamps, the lookback delta, query times and retention then mean what they
 * mean on a cluster: a `[1m]` window holds four 15s scrapes whatever the time scale.
 *
 * Twin simplification: at a time scale above 1 the control-plane clock runs faster than real time,
 * so a scrape every 15 s of control-plane time is one every 150 ms of real time at ×100; counters
 * count real requests, so rates are per control-plane second (a ratio of rates, such as an error
 * rate, is unchanged); scrape durations, scrape timeouts and request latencies stay in real seconds.
 */
export const CLOCK_SCALE_ENV = 'TWIN_CLOCK_SCALE';
export const CLOCK_VIRTUAL_ENV = 'TWIN_CLOCK_VIRTUAL_MS';
export const CLOCK_REAL_ENV = 'TWIN_CLOCK_REAL_MS';

/** The variables that give a live process the control-plane clock (set by the kubelet). */
export function clockEnvironment(clock: Clock): Record<string, string> {
  return {
    [CLOCK_SCALE_ENV]: String(clock.scale),
    [CLOCK_VIRTUAL_ENV]: String(Math.round(clock.now())),
    [CLOCK_REAL_ENV]: String(Date.now()),
  };
}

/** The control-plane clock from the environment; the machine's clock (×1) when the kubelet gave none. */
export function controlPlaneClock(env: NodeJS.ProcessEnv = process.env): Clock {
  const scale = Number(env[CLOCK_SCALE_ENV]);
  const virtual = Number(env[CLOCK_VIRTUAL_ENV]);
  const real = Number(env[CLOCK_REAL_ENV]);
  if (!(scale > 0) || !Number.isFinite(virtual) || !Number.isFinite(real)) return new ScaledClock(1);
  return new ScaledClock(scale, virtual + (Date.now() - real) * scale);
}
