import { afterEach, describe, expect, it } from 'vitest';
import { rolloutValidationError } from '../../../twin/rollouts/rollout-validation.ts';
import type { Rollout } from '../../../twin/rollouts/types.ts';
import { RolloutHarness, rollout } from './rollout-harness.ts';

let h: RolloutHarness | undefined;
afterEach(() => {
  h?.stop();
  h = undefined;
});

const RS = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };

describe('Rollout spec validation (the InvalidSpec condition)', () => {
  it('finds a setCanaryScale step without a traffic router and a setWeight outside 0–100', () => {
    const ro = (canary: Record<string, unknown>) =>
      rollout('p', 'api', 'api:1', { strategy: { canary } }) as Rollout;
    expect(rolloutValidationError(ro({ steps: [{ setWeight: 20 }, { pause: {} }] }))).toBeUndefined();
    expect(
      rolloutValidationError(ro({ steps: [{ setWeight: 20 }, { setCanaryScale: { replicas: 3 } }] })),
    ).toBe(
      'spec.strategy.canary.steps[1].setCanaryScale: Invalid value: {"replicas":3}: SetCanaryScale requires TrafficRouting to be set',
    );
    expect(
      rolloutValidationError(
        ro({
          steps: [{ setCanaryScale: { replicas: 3 } }],
          trafficRouting: { alb: { ingress: 'i', servicePort: 80 } },
        }),
      ),
    ).toBeUndefined();
    expect(rolloutValidationError(ro({ steps: [{ setWeight: 120 }] }))).toMatch(
      /steps\[0\]\.setWeight: .*SetWeight needs to be between 0 and 100$/,
    );
  });

  it('an invalid Rollout gets InvalidSpec and phase Degraded and no ReplicaSet; fixed, it rolls out', async () => {
    h = new RolloutHarness();
    h.store.create(
      rollout('p', 'api', 'api:1', {
        replicas: 2,
        strategy: { canary: { steps: [{ setCanaryScale: { replicas: 1 } }, { setWeight: 50 }] } },
      }),
    );
    const ro = await h.waitFor('InvalidSpec', () => {
      const r = h!.rollout('p', 'api');
      return r.status?.conditions?.some((c: { type: string }) => c.type === 'InvalidSpec') && r;
    });
    expect(ro.status.phase).toBe('Degraded');
    expect(ro.status.message).toMatch(
      /^InvalidSpec: The Rollout "api" is invalid: spec\.strategy\.canary\.steps\[0\]\.setCanaryScale: .*SetCanaryScale requires TrafficRouting to be set$/,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(h.store.list(RS, { namespace: 'p' })).toHaveLength(0);
    h.store.patch(
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', namespace: 'p', name: 'api' },
      (r) => {
        r.spec.strategy.canary.steps = [{ setWeight: 50 }];
      },
    );
    const healthy = await h.waitFor('Healthy', () => {
      const r = h!.rollout('p', 'api');
      return r.status?.phase === 'Healthy' && r;
    });
    expect(healthy.status.conditions.some((c: { type: string }) => c.type === 'InvalidSpec')).toBe(false);
  });
});
