/**
 * The HorizontalPodAutoscaler's replica calculation and scaling behavior, as the Kubernetes
 * documentation states them (docs/zones-and-nodes.md lists the pages):
 *   desiredReplicas = ceil[currentReplicas × (currentMetricValue / desiredMetricValue)],
 * skipped when the ratio is within the tolerance (0.1); not-yet-ready pods count as 0 % on a scale
 * up and pods without metrics as 100 % on a scale down (0 % on a scale up), and a scale is dropped
 * when that reverses its direction; the largest proposal over all metrics wins; then the behavior's
 * stabilization windows and rate policies apply.
 */

export const HPA_TOLERANCE = 0.1;
export const HPA_SYNC_PERIOD_SECONDS = 15;

export interface PodSample {
  /** Ready and past its initialization: its usage counts as measured. */
  ready: boolean;
  /** Utilization in percent of the request, or undefined when the pod has no metrics. */
  utilization: number | undefined;
}

/** Replicas one resource-utilization metric asks for (replica_calculator.GetResourceReplicas). */
export function replicasForUtilization(
  currentReplicas: number,
  pods: PodSample[],
  targetUtilization: number,
  tolerance = HPA_TOLERANCE,
): { replicas: number; utilization: number } {
  const measured = pods.filter((p) => p.ready && p.utilization !== undefined);
  const unready = pods.filter((p) => !p.ready && p.utilization !== undefined).length;
  const missing = pods.filter((p) => p.utilization === undefined).length;
  if (measured.length === 0) return { replicas: currentReplicas, utilization: 0 };
  const sum = measured.reduce((a, p) => a + p.utilization!, 0);
  const utilization = sum / measured.length;
  const usageRatio = utilization / targetUtilization;
  const scaleUp = usageRatio > 1;
  if ((unready === 0 || !scaleUp) && missing === 0) {
    if (Math.abs(1 - usageRatio) <= tolerance) return { replicas: currentReplicas, utilization };
    return { replicas: Math.ceil(usageRatio * measured.length), utilization };
  }
  // Rebalance: missing pods at 100 % on a scale down, 0 % on a scale up; unready pods at 0 % on a scale up.
  let total = sum;
  let count = measured.length;
  if (missing > 0) {
    total += (scaleUp ? 0 : 100) * missing;
    count += missing;
  }
  if (scaleUp && unready > 0) count += unready;
  const newRatio = total / count / targetUtilization;
  if (
    Math.abs(1 - newRatio) <= tolerance ||
    (usageRatio < 1 && newRatio > 1) ||
    (usageRatio > 1 && newRatio < 1)
  )
    return { replicas: currentReplicas, utilization };
  const replicas = Math.ceil(newRatio * count);
  if ((newRatio < 1 && replicas > currentReplicas) || (newRatio > 1 && replicas < currentReplicas))
    return { replicas: currentReplicas, utilization };
  return { replicas, utilization };
}

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}

export interface Behavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

/** The documented default behavior: up at once by 100 % or 4 pods per 15 s; down by 100 % per 15 s after a 300 s window. */
export const DEFAULT_BEHAVIOR: Behavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Percent', value: 100, periodSeconds: 15 },
      { type: 'Pods', value: 4, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: 'Max',
    policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  },
};

/** spec.behavior with the defaults filled in field by field. */
export function behaviorOf(spec: {
  behavior?: Partial<Record<'scaleUp' | 'scaleDown', Partial<ScalingRules>>>;
}): Behavior {
  const merge = (d: ScalingRules, b: Partial<ScalingRules> | undefined): ScalingRules => ({
    stabilizationWindowSeconds: b?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: b?.selectPolicy ?? d.selectPolicy,
    policies: b?.policies && b.policies.length > 0 ? b.policies : d.policies,
  });
  return {
    scaleUp: merge(DEFAULT_BEHAVIOR.scaleUp, spec.behavior?.scaleUp),
    scaleDown: merge(DEFAULT_BEHAVIOR.scaleDown, spec.behavior?.scaleDown),
  };
}

export interface ScaleEvent {
  at: number;
  /** Positive: replicas added; negative: removed. */
  change: number;
}

/**
 * normalizeDesiredReplicasWithBehaviors: the stabilized recommendation (the highest of the scale-down
 * window, the lowest of the scale-up window), limited by the policies over their periods, then by
 * min/max replicas.
 */
export function applyBehavior(input: {
  now: number;
  currentReplicas: number;
  recommendation: number;
  /** Earlier recommendations (at, replicas), newest last; the caller keeps them. */
  history: Array<{ at: number; replicas: number }>;
  events: ScaleEvent[];
  behavior: Behavior;
  minReplicas: number;
  maxReplicas: number;
}): { replicas: number; reason: string } {
  const { now, currentReplicas: cur, behavior } = input;
  const within = (s: number) => input.history.filter((h) => h.at >= now - s * 1000).map((h) => h.replicas);
  const upWindow = [...within(behavior.scaleUp.stabilizationWindowSeconds), input.recommendation];
  const downWindow = [...within(behavior.scaleDown.stabilizationWindowSeconds), input.recommendation];
  // Stabilization: never up beyond the lowest recent recommendation, never down below the highest.
  let stabilized = cur;
  const upMin = Math.min(...upWindow);
  const downMax = Math.max(...downWindow);
  if (upMin > cur) stabilized = upMin;
  else if (downMax < cur) stabilized = downMax;
  let reason = stabilized === input.recommendation ? 'recommendation' : 'stabilization window';
  let replicas = stabilized;
  if (replicas > cur) {
    const limit = scaleUpLimit(cur, input.events, behavior.scaleUp, now);
    if (replicas > limit) {
      replicas = limit;
      reason = 'scale-up policy';
    }
  } else if (replicas < cur) {
    const limit = scaleDownLimit(cur, input.events, behavior.scaleDown, now);
    if (replicas < limit) {
      replicas = limit;
      reason = 'scale-down policy';
    }
  }
  if (replicas > input.maxReplicas) return { replicas: input.maxReplicas, reason: 'maxReplicas' };
  if (replicas < input.minReplicas) return { replicas: input.minReplicas, reason: 'minReplicas' };
  return { replicas, reason };
}

function changeIn(events: ScaleEvent[], now: number, periodSeconds: number, sign: 1 | -1): number {
  return events
    .filter((e) => e.at > now - periodSeconds * 1000 && Math.sign(e.change) === sign)
    .reduce((a, e) => a + Math.abs(e.change), 0);
}

export function scaleUpLimit(cur: number, events: ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return cur;
  const proposals = rules.policies.map((p) => {
    const start =
      cur - changeIn(events, now, p.periodSeconds, 1) + changeIn(events, now, p.periodSeconds, -1);
    return p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
  });
  return rules.selectPolicy === 'Min' ? Math.min(...proposals) : Math.max(...proposals);
}

export function scaleDownLimit(cur: number, events: ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return cur;
  const proposals = rules.policies.map((p) => {
    const start =
      cur + changeIn(events, now, p.periodSeconds, -1) - changeIn(events, now, p.periodSeconds, 1);
    return p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
  });
  return rules.selectPolicy === 'Min' ? Math.max(...proposals) : Math.min(...proposals);
}
