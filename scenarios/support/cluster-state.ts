import type { Environment, KubeObject } from '../../env/environment.ts';
import { sleep as abortableSleep, isTwinError, waitUntil } from '../../harness/index.ts';

/** What the zone/node scenarios read from the cluster: pods, nodes and their conditions, in control-plane time. */

export const ZONE = 'topology.kubernetes.io/zone';

export function condition(
  obj: KubeObject | undefined,
  type: string,
): { status?: string; reason?: string; message?: string; lastTransitionTime?: string } | undefined {
  return (obj?.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
}

export function isReady(obj: KubeObject | undefined): boolean {
  return condition(obj, 'Ready')?.status === 'True';
}

/** Control-plane epoch ms of a condition's last transition. */
export function transitionTime(obj: KubeObject | undefined, type: string): number | undefined {
  const t = condition(obj, type)?.lastTransitionTime;
  return t ? Date.parse(t) : undefined;
}

export async function podsOf(
  env: Environment,
  namespace: string,
  labels: Record<string, string>,
): Promise<KubeObject[]> {
  return env.kube.list({ kind: 'Pod' }, { namespace, labelSelector: { matchLabels: labels } });
}

export async function nodesByName(env: Environment): Promise<Map<string, KubeObject>> {
  return new Map((await env.kube.list({ kind: 'Node' })).map((n) => [n.metadata.name, n]));
}

export async function nodesInZone(env: Environment, zone: string): Promise<string[]> {
  return (await env.kube.list({ kind: 'Node' }))
    .filter((n) => n.metadata.labels?.[ZONE] === zone)
    .map((n) => n.metadata.name);
}

/** The pending pods of a selector, with the scheduler's reason (the PodScheduled condition). */
export async function pendingWithReason(
  env: Environment,
  namespace: string,
  labels: Record<string, string>,
): Promise<Array<{ name: string; reason: string; message: string }>> {
  return (await podsOf(env, namespace, labels))
    .filter((p) => !p.spec?.nodeName)
    .map((p) => {
      const c = condition(p, 'PodScheduled');
      return { name: p.metadata.name, reason: c?.reason ?? 'Pending', message: c?.message ?? '' };
    });
}

/** Polls `check` every `everyMs` of real time until it returns a value; rejects naming `what` after `timeoutMs`. */
export function pollUntil<T>(
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; what: string; everyMs?: number },
): Promise<T> {
  return waitUntil(check, {
    what: options.what,
    timeout: options.timeoutMs,
    interval: options.everyMs ?? 25,
  });
}

/**
 * pollUntil that gives up quietly: undefined at the timeout (any other error still rejects), for a
 * bounded wait whose outcome a measurement judges afterwards.
 */
export async function pollAtMost<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs: number; what: string; everyMs?: number },
): Promise<T | undefined> {
  try {
    return await pollUntil(async () => (await check()) || undefined, options);
  } catch (err) {
    if (isTwinError(err, 'TWIN_TIMEOUT')) return undefined;
    throw err;
  }
}

/** Tracks the fewest Ready pods of a selector seen while it runs (checked on every pod change). */
export function trackMinReady(
  env: Environment,
  namespace: string,
  labels: Record<string, string>,
): { min(): number; stop(): void } {
  let min = Number.POSITIVE_INFINITY;
  const check = () =>
    void podsOf(env, namespace, labels).then((pods) => {
      min = Math.min(min, pods.filter(isReady).length);
    });
  check();
  const stop = env.kube.watch({ kind: 'Pod', namespace }, () => check());
  return { min: () => min, stop };
}

export function pct(part: number, whole: number): number {
  return whole === 0 ? 0 : (part / whole) * 100;
}

/** Real-time sleep; Ctrl-C ends it (TWIN_ABORTED) with every other wait. */
export function sleep(ms: number): Promise<void> {
  return abortableSleep(ms);
}

/** A 99.95 % monthly availability target allows 21.6 minutes of full outage in 30 days. */
export function monthlyErrorBudgetMinutes(slo: number): number {
  return 30 * 24 * 60 * (1 - slo);
}

// Kubernetes defaults the twin runs with (docs/zones-and-nodes.md), in control-plane seconds.
export const GRACE = 50;
export const MONITOR_PERIOD = 5;
export const LEASE_RENEW = 10;
export const TOLERATION = 300;
/** Control-plane seconds of slack for event-loop lag: at ×100 a 100 ms stall on a loaded machine is 10 s. */
export const JITTER = 15;
/** Live replacements start in real time: 1–2 s on a loaded machine is 100–200 s of control-plane time at ×100. */
export const START_SLACK = 240;
