import { describe, expect, it } from 'vitest';
import * as rollouts from '../../../twin/rollouts/index.ts';
import { RolloutHarness, rollout, service } from './rollout-harness.ts';

describe('twin/rollouts public surface', () => {
  it('exports these names', () => {
    expect(Object.keys(rollouts).sort()).toEqual(
      [
        'AnalysisRunController',
        'ExprError',
        'POD_TEMPLATE_HASH_LABEL',
        'RolloutController',
        'abort',
        'albActionAnnotationKey',
        'albForwardAction',
        'evaluateCondition',
        'evaluateExpr',
        'evaluateJsonPath',
        'parseExpr',
        'parseJsonPath',
        'podTemplateHash',
        'promote',
        'retry',
        'rolloutControllers',
        'stepString',
      ].sort(),
    );
    expect(rollouts.rolloutControllers().map((c) => c.name)).toEqual(['argo-rollouts', 'analysis-runs']);
  });

  it('selects the stable hash on a Service created after the Rollout', async () => {
    const h = new RolloutHarness();
    try {
      h.store.create(
        rollout('prod', 'api', 'api:v1', {
          replicas: 1,
          strategy: { canary: { stableService: 'api-stable' } },
        }),
      );
      await h.waitFor('Healthy', () => h.rollout('prod', 'api').status?.phase === 'Healthy');
      h.store.create(service('prod', 'api-stable', 'api'));
      const hash = h.rollout('prod', 'api').status.stableRS;
      await h.waitFor('the selector', () => {
        const svc = h.store.get({ kind: 'Service', namespace: 'prod', name: 'api-stable' });
        return svc?.spec.selector['rollouts-pod-template-hash'] === hash;
      });
    } finally {
      h.stop();
    }
  });
});
