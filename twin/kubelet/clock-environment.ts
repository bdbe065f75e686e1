import { type Clock, ScaledClock } from '../../kube/clock.ts';

/**
 * How a live process learns the twin's control-plane clock: the kubelet gives every live container
 * the clock's scale and one reading of it (control-plane ms TWIN_CLOCK_VIRTUAL_MS at Date.now()
 * TWIN_CLOCK_REAL_MS), like TWIN_DNS_FILE an implementation detail of the twin, never configuration
 * the real image reads. A program that keeps time the way its cluster counterpart does (the twin's
 * Prometheus) reads it back with controlPlaneClock.
 */
export const CLOCK_SCALE_ENV = 'TWIN_CLOCK_SCALE';
export const CLOCK_VIRTUAL_ENV = 'TWIN_CLOCK_VIRTUAL_MS';
export const CLOCK_REAL_ENV = 'TWIN_CLOCK_REAL_MS';

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
