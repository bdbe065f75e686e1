import { describe, expect, it } from 'vitest';
import {
  atDesiredReplicaCounts,
  calculateReplicaCounts,
  currentSetWeight,
} from '../../../twin/rollouts/replica-counts.ts';
import type { Rollout } from '../../../twin/rollouts/types.ts';

function ro(replicas: number, weight: number, canary: Record<string, unknown> = {}): Rollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'r' },
    spec: { replicas, strategy: { canary: { steps: [{ setWeight: weight }, { pause: {} }], ...canary } } },
    status: { currentPodHash: 'new', stableRS: 'stable', currentStepIndex: 0 },
  };
}

const rs = (name: string, specReplicas: number, availableReplicas = specReplicas) => ({
  name,
  specReplicas,
  availableReplicas,
});

describe('canary replica math (utils/replicaset/canary.go)', () => {
  // The examples documented on CalculateReplicaCountsForCanary; at weight 5 both counts round up (10 + 1 surge).
  it.each([
    [10, 10, 0, 10, 1, 1, [1, 9]],
    [10, 30, 0, 10, 0, 3, [3, 10]],
    [10, 30, 0, 10, 5, 0, [0, 7]],
    [10, 5, 0, 10, 1, 1, [1, 10]],
    [1, 5, 0, 1, 0, 1, [1, 1]],
    [1, 95, 0, 1, 0, 1, [1, 1]],
  ])(
    'replicas %i weight %i new %i stable %i maxUnavailable %i maxSurge %i → %j',
    (replicas, weight, n, s, maxUnavailable, maxSurge, expected) => {
      const counts = calculateReplicaCounts(
        ro(replicas, weight, { maxUnavailable, maxSurge }),
        rs('new', n),
        rs('stable', s),
        [],
      );
      expect([counts.canary, counts.stable]).toEqual(expected);
    },
  );

  it('with traffic routing scales the canary to ceil(weight × replicas) and keeps the stable at full scale', () => {
    const counts = calculateReplicaCounts(
      ro(4, 10, { trafficRouting: { alb: { ingress: 'i', servicePort: 80 } } }),
      rs('new', 0),
      rs('stable', 4),
      [],
    );
    expect(counts).toEqual({ canary: 1, stable: 4 });
  });

  it('setCanaryScale replicas applies with traffic routing only', () => {
    const r = ro(10, 10, { trafficRouting: { alb: { ingress: 'i', servicePort: 80 } } });
    r.spec!.strategy!.canary!.steps = [{ setCanaryScale: { replicas: 3 } }, { setWeight: 10 }];
    expect(calculateReplicaCounts(r, rs('new', 0), rs('stable', 10), [])).toEqual({ canary: 3, stable: 10 });
  });

  it('an aborted rollout weighs 0 and is at its counts once the canary is gone', () => {
    const r = ro(10, 50);
    r.status!.abort = true;
    expect(currentSetWeight(r)).toBe(0);
    expect(atDesiredReplicaCounts(r, rs('new', 0), rs('stable', 10), [])).toBe(true);
    expect(atDesiredReplicaCounts(r, rs('new', 5), rs('stable', 10), [])).toBe(false);
  });

  it('is not at the desired counts until the canary pods are available', () => {
    const r = ro(10, 20);
    expect(atDesiredReplicaCounts(r, rs('new', 2, 1), rs('stable', 8), [])).toBe(false);
    expect(atDesiredReplicaCounts(r, rs('new', 2, 2), rs('stable', 8), [])).toBe(true);
  });
});
