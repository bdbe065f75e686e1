import { describe, expect, it } from 'vitest';
import {
  approximateWeightedCanaryStableReplicaCounts,
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

describe('basic canary replica counts as Argo Rollouts ≥ 1.2 computes them', () => {
  // [replicas, weight, maxSurge] → [canary, stable]: the approximations listed in Argo Rollouts'
  // utils/replicaset/canary_test.go (TestApproximateWeightedNewStableReplicaCounts).
  it.each([
    [0, 50, 1, 0, 0],
    [1, 1, 0, 0, 1],
    [1, 50, 0, 1, 0],
    [1, 1, 1, 1, 1],
    [1, 100, 1, 1, 0],
    [2, 1, 0, 1, 1],
    [2, 1, 1, 1, 2],
    [2, 99, 1, 2, 1],
    [3, 10, 0, 1, 2],
    [3, 50, 0, 2, 1],
    [3, 10, 1, 1, 3],
    [3, 33, 1, 1, 2],
    [3, 49, 1, 2, 2],
    [10, 0, 1, 0, 10],
    [10, 14, 0, 1, 9],
    [10, 15, 0, 2, 8],
    [10, 99, 0, 9, 1],
    [10, 1, 1, 1, 10],
    [10, 18, 1, 2, 9],
    [10, 23, 1, 2, 8],
    [10, 24, 1, 3, 8],
    [10, 99, 1, 10, 1],
    [10, 100, 1, 10, 0],
  ])(
    'replicas %i, weight %i, maxSurge %i → canary %i, stable %i',
    (replicas, weight, surge, canary, stable) => {
      expect(approximateWeightedCanaryStableReplicaCounts(replicas, weight, surge)).toEqual({
        canary,
        stable,
      });
    },
  );

  it('setWeight 41 of 10 takes the closest whole number (4 and 6), as the canary documentation states', () => {
    expect(approximateWeightedCanaryStableReplicaCounts(10, 41, 3)).toEqual({ canary: 4, stable: 6 });
  });

  // [replicas, weight, maxSurge, maxUnavailable, stable spec/available, canary spec/available, older RS] →
  // [canary, stable]: rows of TestCalculateReplicaCountsForCanary without traffic routing.
  it.each([
    ['do not count extra available pods beyond spec', 10, 100, 3, 0, [7, 8], [6, 3], undefined, [6, 7]],
    ['max surge scales the canary up', 10, 20, 2, 0, [10, 10], [0, 0], undefined, [2, 10]],
    ['max surge percentage', 10, 20, '20%', 0, [10, 10], [0, 0], undefined, [2, 10]],
    ['extra stable replicas scale down', 10, 20, '20%', 0, [10, 10], [2, 2], undefined, [2, 8]],
    ['never past max surge', 10, 30, 2, 0, [10, 10], [0, 0], undefined, [2, 10]],
    ['max unavailable scales the stable down', 10, 20, 0, 2, [10, 10], [0, 0], undefined, [0, 8]],
    ['never past max unavailable', 10, 30, 0, 2, [10, 10], [0, 0], undefined, [0, 8]],
    ['both limits', 10, 50, 2, 1, [10, 10], [0, 0], undefined, [2, 9]],
    ['weight 0 scales the canary to 0', 10, 0, 1, 1, [10, 10], [1, 1], undefined, [0, 10]],
    ['weight 100 scales the stable to 0', 10, 100, 1, 1, [1, 1], [10, 10], undefined, [10, 0]],
    ['a non-zero weight keeps one canary', 1, 20, 1, 0, [1, 1], [0, 0], undefined, [1, 1]],
    ['the stable scales up before the canary', 10, 30, 1, 0, [1, 1], [0, 0], [3, 3], [1, 7]],
    ['canary and stable scale down together', 10, 30, 0, 3, [8, 5], [4, 4], undefined, [3, 7]],
    ['older ReplicaSets go first', 10, 30, 0, 1, [8, 6], [4, 2], [3, 3], [4, 8]],
    ['an uneven weight does not round past maxSurge', 10, 5, 0, 1, [10, 10], [0, 0], undefined, [0, 9]],
    ['…nor on the next pass', 10, 5, 0, 1, [9, 9], [0, 0], undefined, [1, 9]],
    [
      '0% surge and unavailability mean maxUnavailable 1',
      10,
      10,
      '0%',
      '0%',
      [10, 10],
      [0, 0],
      undefined,
      [0, 9],
    ],
    ['maxSurge holds while the stable is unavailable', 4, 100, 1, 0, [4, 1], [0, 0], undefined, [1, 4]],
    ['maxUnavailable holds when scaling down to it', 3, 99, 0, 2, [3, 3], [0, 0], undefined, [0, 1]],
    ['…and then the canary scales up', 3, 99, 0, 2, [1, 1], [0, 0], undefined, [2, 1]],
    ['maxUnavailable holds while the stable is unavailable', 4, 100, 1, 0, [4, 1], [1, 1], undefined, [1, 3]],
    [
      'a lower weight surges the stable before the canary shrinks',
      4,
      0,
      1,
      0,
      [0, 0],
      [4, 4],
      undefined,
      [4, 1],
    ],
    ['…and waits for the stable to be available', 4, 0, 1, 0, [1, 0], [4, 4], undefined, [4, 1]],
    ['…then shrinks the canary by maxUnavailable', 4, 0, 1, 0, [1, 1], [4, 4], undefined, [3, 1]],
  ] as const)('%s', (_name, replicas, weight, maxSurge, maxUnavailable, stable, canary, older, expected) => {
    const counts = calculateReplicaCounts(
      ro(replicas, weight, { maxSurge, maxUnavailable }),
      rs('new', canary[0], canary[1]),
      rs('stable', stable[0], stable[1]),
      older ? [rs('older', older[0], older[1])] : [],
    );
    expect([counts.canary, counts.stable]).toEqual(expected);
  });

  it('promote --full ignores the weight but keeps maxSurge and maxUnavailable', () => {
    const full = (surge: number, unavailable: number) => {
      const r = ro(4, 1, { maxSurge: surge, maxUnavailable: unavailable });
      r.status!.promoteFull = true;
      const c = calculateReplicaCounts(r, rs('new', 0), rs('stable', 4), []);
      return [c.canary, c.stable];
    };
    expect(full(4, 4)).toEqual([4, 0]);
    expect(full(3, 0)).toEqual([3, 4]);
  });

  it('a stable count is reached once created, even before its pods are available', () => {
    const r = ro(4, 75, { maxSurge: 1, maxUnavailable: 1 });
    expect(
      atDesiredReplicaCounts(
        r,
        rs('new', 3, 3),
        { name: 'stable', specReplicas: 1, availableReplicas: 0, replicas: 1 },
        [],
      ),
    ).toBe(true);
    expect(
      atDesiredReplicaCounts(
        r,
        rs('new', 3, 3),
        { name: 'stable', specReplicas: 1, availableReplicas: 0, replicas: 2 },
        [],
      ),
    ).toBe(false);
  });
});
