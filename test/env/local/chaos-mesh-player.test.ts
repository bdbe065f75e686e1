import { describe, expect, it } from 'vitest';
import { playChaos, trafficRuleOf } from '../../../env/local/chaos-mesh-player.ts';
import type { KubeObject } from '../../../kube/object.ts';
import type { Twin } from '../../../twin/twin.ts';

const chaos = (kind: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'chaos-mesh.org/v1alpha1',
  kind,
  metadata: { name: 'x', namespace: 'production' },
  spec: { mode: 'all', selector: { labelSelectors: { app: 'api' } }, ...spec },
});
const pods = new Set(['production/api-1']);

describe('playing Chaos Mesh objects on the twin (env/local/chaos-mesh-player.ts)', () => {
  it('NetworkChaos delay, loss, netem and partition become the proxies’ traffic faults', () => {
    expect(
      trafficRuleOf(
        chaos('NetworkChaos', { action: 'delay', delay: { latency: '300ms', jitter: '50ms' } }),
        pods,
      ),
    ).toEqual({
      id: 'NetworkChaos production/x',
      pods,
      delay: { latencyMs: 300, jitterMs: 50 },
    });
    expect(
      trafficRuleOf(chaos('NetworkChaos', { action: 'loss', loss: { loss: '25', correlation: '0' } }), pods),
    ).toMatchObject({
      lossPercent: 25,
    });
    const netem = trafficRuleOf(
      chaos('NetworkChaos', {
        action: 'netem',
        delay: { latency: '1s' },
        loss: { loss: '5' },
        direction: 'both',
        target: { mode: 'all', selector: { labelSelectors: { app: 'inference' } } },
      }),
      pods,
      new Set(['127.10.0.9']),
    );
    expect(netem).toMatchObject({
      delay: { latencyMs: 1000, bothWays: true },
      lossPercent: 5,
      peers: new Set(['127.10.0.9']),
    });
    expect(trafficRuleOf(chaos('NetworkChaos', { action: 'partition' }), pods).partition).toBe(true);
    expect(() =>
      trafficRuleOf(chaos('NetworkChaos', { action: 'delay', delay: { latency: 'slow' } }), pods),
    ).toThrow('NetworkChaos production/x: spec.delay.latency: "slow" is not a duration');
    expect(() =>
      trafficRuleOf(chaos('NetworkChaos', { action: 'loss', loss: { loss: '120' } }), pods),
    ).toThrow('spec.loss.loss: "120" is not a percentage');
  });

  it('HTTPChaos abort, delay and replace.code on a port and path', () => {
    const rule = trafficRuleOf(
      chaos('HTTPChaos', {
        target: 'Request',
        port: 8080,
        path: '/api/*',
        method: 'GET',
        delay: '2s',
        replace: { code: 503 },
      }),
      pods,
    );
    expect(rule.http).toEqual({ port: 8080, path: '/api/*', method: 'GET', delayMs: 2000, code: 503 });
    expect(
      trafficRuleOf(chaos('HTTPChaos', { target: 'Request', port: 80, abort: true }), pods).http,
    ).toEqual({ port: 80, abort: true });
  });

  it('refuses, before anything happens, what the twin cannot play, and says where it runs', async () => {
    const twin = {} as Twin;
    const ctx = { twin, killPod: async () => {}, record: () => {}, willUndo: () => {}, undone: () => {} };
    await expect(
      playChaos(ctx, chaos('StressChaos', { stressors: { cpu: { workers: 1 } } })),
    ).rejects.toThrow(
      'StressChaos production/x: StressChaos (CPU and memory stress of live processes) is not played on the twin (it runs on k3d with Chaos Mesh: --env k3d)',
    );
    await expect(playChaos(ctx, chaos('PodChaos', { action: 'pod-failure' }))).rejects.toThrow(
      'PodChaos action pod-failure',
    );
    await expect(playChaos(ctx, chaos('NetworkChaos', { action: 'bandwidth' }))).rejects.toThrow(
      'NetworkChaos action bandwidth',
    );
    await expect(
      playChaos(ctx, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} }),
    ).rejects.toThrow('not a Chaos Mesh chaos object');
  });
});
