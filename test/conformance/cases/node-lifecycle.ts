import { expect } from 'vitest';
import type { KubeObject } from '../../../env/environment.ts';
import type { CaseContext, ConformanceCase } from '../conformance-case.ts';
import {
  condition,
  cordonZones,
  deployment,
  generalNode,
  HOSTNAME,
  nodeLabel,
  pod,
  podTemplate,
  running,
  secondsBetween,
} from '../objects.ts';

const NODES = 'https://kubernetes.io/docs/concepts/architecture/nodes/';
const TAINT_EVICTIONS =
  'https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

function taint(
  node: KubeObject | undefined,
  key: string,
  effect: string,
): { timeAdded?: string } | undefined {
  return (node?.spec?.taints ?? []).find(
    (x: { key: string; effect: string }) => x.key === key && x.effect === effect,
  );
}

/** Powers the general node of zone 1d off, and on again after the case (waiting until it is Ready and untainted). */
async function stopNode(
  t: CaseContext,
): Promise<{ name: string; host: Record<string, string>; stoppedAt: number }> {
  const node = await generalNode(t, 'ap-northeast-1d');
  const name = node.metadata.name;
  t.defer(async () => {
    await t.env.faults.startNode(name);
    await t.objectUntil(
      `node ${name} Ready and untainted again`,
      { kind: 'Node', name },
      (n) =>
        condition(n, 'Ready')?.status === 'True' &&
        !(n.spec?.taints ?? []).some((x: { key: string }) => x.key.startsWith('node.kubernetes.io/')),
      300,
    );
  });
  return { name, host: { [HOSTNAME]: nodeLabel(node, HOSTNAME)! }, stoppedAt: t.now() };
}

async function unreachable(t: CaseContext, name: string): Promise<KubeObject> {
  return t.objectUntil(
    `node ${name} tainted unreachable:NoExecute`,
    { kind: 'Node', name },
    (n) => taint(n, UNREACHABLE, 'NoExecute') !== undefined,
    300,
  );
}

export const nodeLifecycleCases: ConformanceCase[] = [
  {
    area: 'Node lifecycle',
    title:
      'DefaultTolerationSeconds: a pod created without them tolerates not-ready and unreachable (NoExecute) for 300 s',
    docs: 'https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#defaulttolerationseconds',
    async run(t) {
      await t.apply(pod(t, 'plain', { labels: { app: 'plain' } }));
      const [p] = await t.podsUntil('pod running', { app: 'plain' }, (ps) => running(ps).length === 1);
      for (const key of ['node.kubernetes.io/not-ready', UNREACHABLE])
        expect(p!.spec.tolerations).toContainEqual({
          key,
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        });
    },
  },
  {
    area: 'Node lifecycle',
    title:
      'a node that stops reporting becomes Ready=Unknown after the node-monitor grace period and is tainted unreachable (NoSchedule and NoExecute)',
    docs: `${NODES}#condition`,
    async run(t) {
      const { name, stoppedAt } = await stopNode(t);
      await t.env.faults.stopNode(name);
      const node = await unreachable(t, name);
      const ready = condition(node, 'Ready')!;
      expect(ready.status).toBe('Unknown');
      expect(ready.reason).toBe('NodeStatusUnknown');
      // The lease was renewed at most 10 s before the stop; 50 s (node-monitor-grace-period) later it is stale.
      expect(secondsBetween(stoppedAt, ready.lastTransitionTime!)).toBeGreaterThanOrEqual(35);
      expect(taint(node, UNREACHABLE, 'NoSchedule')).toBeDefined();
    },
  },
  {
    area: 'Node lifecycle',
    title:
      'taint-based eviction: pods on an unreachable node are evicted tolerationSeconds after the NoExecute taint, and their Deployment replaces them on another node',
    docs: TAINT_EVICTIONS,
    async run(t) {
      const { name } = await stopNode(t);
      // Only the node that will fail takes pods at first; its replacements then go to the other zones.
      const undoCordon = await cordonZones(t, ['ap-northeast-1a', 'ap-northeast-1c']);
      await t.apply(
        deployment(t, 'stranded', 2, {
          nodeSelector: { 'workload-tier': 'general' },
          tolerations: [
            { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 20 },
            {
              key: 'node.kubernetes.io/not-ready',
              operator: 'Exists',
              effect: 'NoExecute',
              tolerationSeconds: 20,
            },
          ],
        }),
      );
      const before = await t.podsUntil(
        '2 pods on the node',
        { app: 'stranded' },
        (ps) => running(ps).filter((p) => p.spec.nodeName === name).length === 2,
      );
      await undoCordon();
      const rec = await t.record('Pod');
      await t.env.faults.stopNode(name);
      const node = await unreachable(t, name);
      const taintedAt = taint(node, UNREACHABLE, 'NoExecute')!.timeAdded!;
      const after = await t.podsUntil(
        '2 replacements running elsewhere',
        { app: 'stranded' },
        (ps) => running(ps).length === 2 && ps.every((p) => p.spec.nodeName !== name),
        300,
      );
      rec.stop();
      expect(after.some((p) => before.some((b) => b.metadata.uid === p.metadata.uid))).toBe(false);
      for (const b of before) {
        const gone = rec.events.find(
          (e) =>
            e.object.metadata.uid === b.metadata.uid &&
            (e.type === 'DELETED' || e.object.metadata.deletionTimestamp),
        );
        expect(gone, `${b.metadata.name} deleted`).toBeDefined();
        if (
          taintedAt &&
          gone!.object.metadata.deletionTimestamp &&
          gone!.object.metadata.deletionTimestamp !== 'deleted'
        )
          expect(secondsBetween(taintedAt, gone!.object.metadata.deletionTimestamp)).toBeGreaterThanOrEqual(
            19,
          );
      }
    },
  },
  {
    area: 'Node lifecycle',
    title:
      'a pod that tolerates unreachable without tolerationSeconds (as DaemonSet pods do) stays bound to the unreachable node',
    docs: TAINT_EVICTIONS,
    async run(t) {
      const { name, host } = await stopNode(t);
      await t.apply({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'resident' },
        spec: {
          selector: { matchLabels: { app: 'resident' } },
          template: podTemplate(t, { labels: { app: 'resident' }, nodeSelector: host }),
        },
      });
      const [p] = await t.podsUntil(
        'daemon pod running on the node',
        { app: 'resident' },
        (ps) => running(ps).length === 1,
      );
      await t.env.faults.stopNode(name);
      await unreachable(t, name);
      await t.sleep(120);
      const [still] = await t.pods({ app: 'resident' });
      expect(still?.metadata.uid).toBe(p!.metadata.uid);
      expect(still?.spec.nodeName).toBe(name);
    },
  },
  {
    area: 'Node lifecycle',
    title: 'a node that reports again becomes Ready=True and its unreachable taints are removed',
    docs: `${NODES}#condition`,
    async run(t) {
      const node = await generalNode(t, 'ap-northeast-1d');
      const name = node.metadata.name;
      t.defer(() => t.env.faults.startNode(name));
      await t.env.faults.stopNode(name);
      await unreachable(t, name);
      await t.env.faults.startNode(name);
      const back = await t.objectUntil(
        'Ready again, untainted',
        { kind: 'Node', name },
        (n) =>
          condition(n, 'Ready')?.status === 'True' &&
          !(n.spec?.taints ?? []).some((x: { key: string }) => x.key === UNREACHABLE),
        300,
      );
      expect(condition(back, 'Ready')?.reason).toBe('KubeletReady');
    },
  },
];
