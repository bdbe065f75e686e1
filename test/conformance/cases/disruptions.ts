import { expect } from 'vitest';
import type { KubeObject } from '../../../env/environment.ts';
import type { CaseContext, ConformanceCase } from '../conformance-case.ts';
import { deployment, readyPods, running } from '../objects.ts';

const PDB = 'https://kubernetes.io/docs/tasks/run-application/configure-pdb/';
const EVICTION = 'https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/';

function pdb(name: string, app: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name },
    spec: { selector: { matchLabels: { app } }, ...spec },
  };
}

async function pdbStatus(t: CaseContext, name: string, expectedPods: number): Promise<KubeObject> {
  return t.objectUntil(
    `PodDisruptionBudget ${name} observed ${expectedPods} pods`,
    { kind: 'PodDisruptionBudget', name },
    (p) =>
      p.status?.observedGeneration === p.metadata.generation &&
      p.status?.expectedPods === expectedPods &&
      p.status?.currentHealthy === expectedPods,
  );
}

async function readyDeployment(t: CaseContext, name: string, replicas: number): Promise<KubeObject[]> {
  await t.apply(deployment(t, name, replicas));
  return t.podsUntil(`${replicas} pods ready`, { app: name }, (ps) => readyPods(ps).length === replicas);
}

export const disruptionCases: ConformanceCase[] = [
  {
    area: 'Disruptions and eviction',
    title:
      'a PodDisruptionBudget reports expectedPods, currentHealthy, desiredHealthy and disruptionsAllowed (minAvailable 2 of 3: 1 allowed)',
    docs: `${PDB}#check-the-status-of-the-pdb`,
    async run(t) {
      await readyDeployment(t, 'guarded', 3);
      await t.apply(pdb('guarded', 'guarded', { minAvailable: 2 }));
      const p = await pdbStatus(t, 'guarded', 3);
      expect(p.status).toMatchObject({
        expectedPods: 3,
        currentHealthy: 3,
        desiredHealthy: 2,
        disruptionsAllowed: 1,
      });
      expect(p.status.conditions?.find((c: { type: string }) => c.type === 'DisruptionAllowed')?.status).toBe(
        'True',
      );
    },
  },
  {
    area: 'Disruptions and eviction',
    title:
      'percentages in a PodDisruptionBudget round up: minAvailable 50% of 3 keeps 2, maxUnavailable 50% of 3 lets 2 go',
    docs: `${PDB}#rounding-logic-when-specifying-percentages`,
    async run(t) {
      await readyDeployment(t, 'min-half', 3);
      await readyDeployment(t, 'max-half', 3);
      await t.apply(
        pdb('min-half', 'min-half', { minAvailable: '50%' }),
        pdb('max-half', 'max-half', { maxUnavailable: '50%' }),
      );
      expect((await pdbStatus(t, 'min-half', 3)).status).toMatchObject({
        desiredHealthy: 2,
        disruptionsAllowed: 1,
      });
      expect((await pdbStatus(t, 'max-half', 3)).status).toMatchObject({
        desiredHealthy: 1,
        disruptionsAllowed: 2,
      });
    },
  },
  {
    area: 'Disruptions and eviction',
    title: 'an eviction the budget allows is answered 200 and deletes the pod',
    docs: `${EVICTION}#how-api-initiated-eviction-works`,
    async run(t) {
      const pods = await readyDeployment(t, 'evictable', 3);
      await t.apply(pdb('evictable', 'evictable', { maxUnavailable: 1 }));
      await pdbStatus(t, 'evictable', 3);
      const victim = pods[0]!.metadata.name;
      const answer = await t.env.faults.evict({ namespace: t.ns, name: victim });
      expect(answer.code).toBe(200);
      await t.podsUntil(
        'the evicted pod gone',
        { app: 'evictable' },
        (ps) => !ps.some((p) => p.metadata.name === victim),
      );
    },
  },
  {
    area: 'Disruptions and eviction',
    title:
      'an eviction that would violate the budget is refused with 429 "Cannot evict pod as it would violate the pod\'s disruption budget." and the pod stays',
    docs: `${EVICTION}#how-api-initiated-eviction-works`,
    async run(t) {
      const pods = await readyDeployment(t, 'protected', 3);
      await t.apply(pdb('protected', 'protected', { minAvailable: 3 }));
      expect((await pdbStatus(t, 'protected', 3)).status.disruptionsAllowed).toBe(0);
      const victim = pods[0]!.metadata.name;
      const answer = await t.env.faults.evict({ namespace: t.ns, name: victim });
      expect(answer.code).toBe(429);
      expect(answer.message).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
      expect((await t.get({ kind: 'Pod', name: victim }))?.metadata.deletionTimestamp).toBeUndefined();
    },
  },
  {
    area: 'Disruptions and eviction',
    title: 'an eviction of a pod that two PodDisruptionBudgets select is refused with 500',
    docs: `${EVICTION}#how-api-initiated-eviction-works`,
    async run(t) {
      const pods = await readyDeployment(t, 'doubly', 2);
      await t.apply(
        pdb('first', 'doubly', { maxUnavailable: 1 }),
        pdb('second', 'doubly', { maxUnavailable: 1 }),
      );
      await pdbStatus(t, 'first', 2);
      await pdbStatus(t, 'second', 2);
      const answer = await t.env.faults.evict({ namespace: t.ns, name: pods[0]!.metadata.name });
      expect(answer.code).toBe(500);
      expect(answer.message).toMatch(/more than one PodDisruptionBudget/);
    },
  },
  {
    area: 'Disruptions and eviction',
    title: 'a pod no PodDisruptionBudget selects is evicted at once',
    docs: `${EVICTION}#how-api-initiated-eviction-works`,
    async run(t) {
      const pods = await readyDeployment(t, 'unguarded', 1);
      const answer = await t.env.faults.evict({ namespace: t.ns, name: pods[0]!.metadata.name });
      expect(answer.code).toBe(200);
    },
  },
  {
    area: 'Disruptions and eviction',
    title:
      'unhealthyPodEvictionPolicy: a running pod that is not Ready is evicted under AlwaysAllow but not under IfHealthyBudget while the budget is unmet',
    docs: `${PDB}#unhealthy-pod-eviction-policy`,
    async run(t) {
      for (const [name, policy] of [
        ['always', 'AlwaysAllow'],
        ['if-healthy', 'IfHealthyBudget'],
      ] as const) {
        await t.apply(
          deployment(t, name, 2, { neverReady: true }),
          pdb(name, name, { minAvailable: 2, unhealthyPodEvictionPolicy: policy }),
        );
      }
      const always = await t.podsUntil('2 pods running', { app: 'always' }, (ps) => running(ps).length === 2);
      const ifHealthy = await t.podsUntil(
        '2 pods running',
        { app: 'if-healthy' },
        (ps) => running(ps).length === 2,
      );
      for (const name of ['always', 'if-healthy'])
        await t.objectUntil(
          `PDB ${name} observed`,
          { kind: 'PodDisruptionBudget', name },
          (p) => p.status?.expectedPods === 2,
        );
      expect((await t.env.faults.evict({ namespace: t.ns, name: always[0]!.metadata.name })).code).toBe(200);
      expect((await t.env.faults.evict({ namespace: t.ns, name: ifHealthy[0]!.metadata.name })).code).toBe(
        429,
      );
    },
  },
];
