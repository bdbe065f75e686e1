import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/seeded-random.ts';
import { chaosDurationMs, matchChaosSelector, pickByMode, pinTargets } from '../../kube/chaos-mesh.ts';
import type { KubeObject } from '../../kube/object.ts';

const pod = (
  ns: string,
  name: string,
  labels: Record<string, string>,
  node = 'n1',
  phase = 'Running',
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: ns, name, labels },
  spec: { nodeName: node },
  status: { phase },
});
const pods = [
  pod('production', 'api-1', { app: 'api', tier: 'backend' }, 'n1'),
  pod('production', 'api-2', { app: 'api', tier: 'backend' }, 'n2'),
  pod('production', 'api-3', { app: 'api', tier: 'backend' }, 'n2', 'Pending'),
  pod('production', 'web-1', { app: 'web' }, 'n1'),
  pod('staging', 'api-1', { app: 'api' }, 'n1'),
];
const nodes: KubeObject[] = [
  {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'a' } },
  },
  {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n2', labels: { 'topology.kubernetes.io/zone': 'b' } },
  },
];
const names = (list: KubeObject[]) => list.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);

describe('Chaos Mesh selectors and modes (kube/chaos-mesh.ts)', () => {
  it('matches every selector together, in the chaos object’s namespace unless namespaces are given', () => {
    expect(names(matchChaosSelector({ labelSelectors: { app: 'api' } }, pods, nodes, 'production'))).toEqual([
      'production/api-1',
      'production/api-2',
      'production/api-3',
    ]);
    expect(
      names(
        matchChaosSelector(
          { namespaces: ['staging'], labelSelectors: { app: 'api' } },
          pods,
          nodes,
          'production',
        ),
      ),
    ).toEqual(['staging/api-1']);
    const zoneB = { labelSelectors: { app: 'api' }, nodeSelectors: { 'topology.kubernetes.io/zone': 'b' } };
    expect(names(matchChaosSelector(zoneB, pods, nodes, 'production'))).toEqual([
      'production/api-2',
      'production/api-3',
    ]);
    expect(
      names(matchChaosSelector({ ...zoneB, podPhaseSelectors: ['Running'] }, pods, nodes, 'production')),
    ).toEqual(['production/api-2']);
    const expr = { expressionSelectors: [{ key: 'tier', operator: 'DoesNotExist' }] };
    expect(names(matchChaosSelector(expr, pods, nodes, 'production'))).toEqual(['production/web-1']);
    expect(
      names(matchChaosSelector({ fieldSelectors: { 'spec.nodeName': 'n2' } }, pods, nodes, 'production')),
    ).toEqual(['production/api-2', 'production/api-3']);
  });

  it('`pods` names the targets and overrides the other selectors', () => {
    const sel = { pods: { staging: ['api-1'] }, labelSelectors: { app: 'web' }, namespaces: ['production'] };
    expect(names(matchChaosSelector(sel, pods, nodes, 'production'))).toEqual(['staging/api-1']);
  });

  it('modes: one, all, fixed, fixed-percent (floor), random-max-percent; nothing selected is an error', () => {
    const matched = matchChaosSelector({ labelSelectors: { app: 'api' } }, pods, nodes, 'production');
    const r = seededRandom(3);
    expect(pickByMode(matched, { mode: 'one' }, r, 'x')).toHaveLength(1);
    expect(pickByMode(matched, { mode: 'all' }, r, 'x')).toHaveLength(3);
    expect(pickByMode(matched, { mode: 'fixed', value: '2' }, r, 'x')).toHaveLength(2);
    expect(pickByMode(matched, { mode: 'fixed', value: '9' }, r, 'x')).toHaveLength(3);
    expect(pickByMode(matched, { mode: 'fixed-percent', value: '50' }, r, 'x')).toHaveLength(1);
    expect(() => pickByMode(matched, { mode: 'fixed-percent', value: '10' }, r, 'NetworkChaos p/x')).toThrow(
      'NetworkChaos p/x: no pod is selected (3 matched the selector, mode fixed-percent 10)',
    );
    expect(() => pickByMode(matched, { mode: 'fixed' }, r, 'x')).toThrow(
      'mode fixed needs a non-negative number',
    );
    const sizes = new Set(
      Array.from({ length: 60 }, () => {
        try {
          return pickByMode(matched, { mode: 'random-max-percent', value: '100' }, r, 'x').length;
        } catch {
          return 0;
        }
      }),
    );
    expect([...sizes].sort()).toEqual([0, 1, 2, 3]);
  });

  it('the same seed picks the same pods', () => {
    const matched = matchChaosSelector({ labelSelectors: { app: 'api' } }, pods, nodes, 'production');
    const pick = (seed: number) =>
      names(pickByMode(matched, { mode: 'fixed', value: '2' }, seededRandom(seed), 'x'));
    expect(pick(7)).toEqual(pick(7));
  });

  it('pins the chosen targets into the object (mode all, selector.pods) and reads its duration', () => {
    const obj: KubeObject = {
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'NetworkChaos',
      metadata: { name: 'd', namespace: 'production' },
      spec: {
        action: 'delay',
        mode: 'one',
        value: '1',
        selector: { labelSelectors: { app: 'api' } },
        duration: '1m30s',
      },
    };
    const pinned = pinTargets(obj, [pods[1]!]);
    expect(pinned['spec']).toEqual({
      action: 'delay',
      mode: 'all',
      selector: { pods: { production: ['api-2'] } },
      duration: '1m30s',
    });
    expect(obj['spec'].mode).toBe('one');
    expect(chaosDurationMs(obj)).toBe(90_000);
    expect(() => chaosDurationMs({ ...obj, spec: { duration: 'soon' } })).toThrow(
      'NetworkChaos production/d: spec.duration: "soon" is not a duration',
    );
  });
});
