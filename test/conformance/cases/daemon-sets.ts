import { expect } from 'vitest';
import type { KubeObject } from '../../../env/environment.ts';
import type { CaseContext, ConformanceCase } from '../conformance-case.ts';
import { generalNode, hardTaints, isReady, type PodOptions, podTemplate } from '../objects.ts';

const DS = 'https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/';

async function daemonSet(
  t: CaseContext,
  name: string,
  pod: Partial<PodOptions> = {},
  spec: Record<string, unknown> = {},
) {
  await t.apply({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: podTemplate(t, { labels: { app: name }, ...pod }),
      ...spec,
    },
  });
}

/** Nodes whose NoSchedule/NoExecute taints all have a key among `tolerated` (node.kubernetes.io/* the DaemonSet controller adds). */
function eligible(
  nodes: KubeObject[],
  tolerated: string[] = [],
  selector: Record<string, string> = {},
): string[] {
  return nodes
    .filter((n) => Object.entries(selector).every(([k, v]) => n.metadata.labels?.[k] === v))
    .filter((n) =>
      hardTaints(n).every((x) => x.key.startsWith('node.kubernetes.io/') || tolerated.includes(x.key)),
    )
    .map((n) => n.metadata.name)
    .sort();
}

async function rolled(t: CaseContext, name: string, count: number): Promise<KubeObject> {
  return t.objectUntil(
    `DaemonSet ${name}: ${count} pods ready and updated`,
    { kind: 'DaemonSet', name },
    (d) => {
      const s = d.status ?? {};
      return (
        s.observedGeneration >= (d.metadata.generation ?? 0) &&
        s.desiredNumberScheduled === count &&
        s.numberReady === count &&
        s.updatedNumberScheduled === count &&
        (s.numberUnavailable ?? 0) === 0
      );
    },
  );
}

async function podNodes(t: CaseContext, app: string): Promise<string[]> {
  return (await t.pods({ app })).map((p) => p.spec.nodeName).sort();
}

export const daemonSetCases: ConformanceCase[] = [
  {
    area: 'DaemonSets',
    title:
      'a DaemonSet runs one pod on every node whose taints it tolerates, and none on tainted nodes it does not tolerate',
    docs: `${DS}#how-daemon-pods-are-scheduled`,
    async run(t) {
      const want = eligible(await t.nodes());
      expect(want.length).toBeGreaterThan(0);
      await daemonSet(t, 'agent');
      await rolled(t, 'agent', want.length);
      expect(await podNodes(t, 'agent')).toEqual(want);
    },
  },
  {
    area: 'DaemonSets',
    title: 'a toleration in the DaemonSet template adds the tainted nodes it tolerates',
    docs: `${DS}#taints-and-tolerations`,
    async run(t) {
      const want = eligible(await t.nodes(), ['dedicated']);
      await daemonSet(t, 'batch-agent', {
        tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }],
      });
      await rolled(t, 'batch-agent', want.length);
      expect(await podNodes(t, 'batch-agent')).toEqual(want);
    },
  },
  {
    area: 'DaemonSets',
    title: 'a nodeSelector in the template limits the DaemonSet to the matching nodes',
    docs: `${DS}#running-pods-on-select-nodes`,
    async run(t) {
      const selector = { 'topology.kubernetes.io/zone': 'ap-northeast-1a' };
      const want = eligible(await t.nodes(), ['dedicated', 'nvidia.com/gpu'], selector);
      await daemonSet(t, 'zonal', { nodeSelector: selector, tolerations: [{ operator: 'Exists' }] });
      await rolled(t, 'zonal', want.length);
      expect(await podNodes(t, 'zonal')).toEqual(want);
    },
  },
  {
    area: 'DaemonSets',
    title:
      "daemon pods get the controller's tolerations: not-ready and unreachable NoExecute without tolerationSeconds, the pressure and unschedulable NoSchedule taints",
    docs: `${DS}#taints-and-tolerations`,
    async run(t) {
      const want = eligible(await t.nodes());
      await daemonSet(t, 'tolerant');
      await rolled(t, 'tolerant', want.length);
      const [p] = await t.pods({ app: 'tolerant' });
      const tolerations = p!.spec.tolerations as Array<{
        key: string;
        effect: string;
        tolerationSeconds?: number;
      }>;
      for (const [key, effect] of [
        ['node.kubernetes.io/not-ready', 'NoExecute'],
        ['node.kubernetes.io/unreachable', 'NoExecute'],
        ['node.kubernetes.io/disk-pressure', 'NoSchedule'],
        ['node.kubernetes.io/memory-pressure', 'NoSchedule'],
        ['node.kubernetes.io/pid-pressure', 'NoSchedule'],
        ['node.kubernetes.io/unschedulable', 'NoSchedule'],
      ]) {
        const tol = tolerations.find((x) => x.key === key && x.effect === effect);
        expect(tol, `${key}:${effect}`).toBeDefined();
        expect(tol!.tolerationSeconds).toBeUndefined();
      }
    },
  },
  {
    area: 'DaemonSets',
    title: 'daemon pods are placed on a cordoned (unschedulable) node too',
    docs: `${DS}#taints-and-tolerations`,
    async run(t) {
      const node = (await generalNode(t, 'ap-northeast-1a')).metadata.name;
      t.defer(async () => {
        await t.patch({ kind: 'Node', name: node }, (n) => {
          delete n.spec.unschedulable;
        });
      });
      await t.patch({ kind: 'Node', name: node }, (n) => {
        n.spec.unschedulable = true;
      });
      const want = eligible(await t.nodes());
      await daemonSet(t, 'everywhere');
      await rolled(t, 'everywhere', want.length);
      expect(await podNodes(t, 'everywhere')).toContain(node);
    },
  },
  {
    area: 'DaemonSets',
    title: 'RollingUpdate (maxUnavailable 1) replaces the daemon pods one node at a time',
    docs: 'https://kubernetes.io/docs/tasks/manage-daemon/update-daemon-set/',
    async run(t) {
      const want = eligible(await t.nodes());
      await daemonSet(
        t,
        'rolling',
        {},
        { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } },
      );
      await rolled(t, 'rolling', want.length);
      const initial = await t.pods({ app: 'rolling' });
      const before = new Set(initial.map((p) => p.metadata.uid));
      const rec = await t.record('Pod');
      await t.patch({ kind: 'DaemonSet', name: 'rolling' }, (d) => {
        d.spec.template.metadata.annotations = { 'conformance/revision': '2' };
      });
      await t.until('every pod replaced', 120, async () => {
        const pods = await t.pods({ app: 'rolling' });
        return pods.length === want.length && pods.every((p) => !before.has(p.metadata.uid) && isReady(p))
          ? true
          : undefined;
      });
      await rolled(t, 'rolling', want.length);
      rec.stop();
      const latest = new Map<string, KubeObject>(initial.map((p) => [p.metadata.uid!, p]));
      let fewest = want.length;
      for (const e of rec.events) {
        if (e.type === 'DELETED') latest.delete(e.object.metadata.uid!);
        else latest.set(e.object.metadata.uid!, e.object);
        const covered = new Set(
          [...latest.values()]
            .filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && isReady(p))
            .map((p) => p.spec.nodeName),
        );
        fewest = Math.min(fewest, covered.size);
      }
      expect(fewest).toBeGreaterThanOrEqual(want.length - 1);
    },
  },
];
