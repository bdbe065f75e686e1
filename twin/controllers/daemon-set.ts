import { type KubeObject, refOf } from '../../kube/object.ts';
import { podsPrefix } from '../store/name-generator.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { keyOf, ReconcileController, splitKey } from './controller.ts';
import { scaledValue } from './int-or-percent.ts';
import { nodeMatchesPod, untoleratedTaints } from './node-eligibility.ts';
import { controllerKeys, creationTime, listControlledBy } from './ownership.ts';
import { isPodAvailable, isPodReady, isPodTerminal, isPodTerminating, nextAvailableIn } from './pod-state.ts';
import { podFromTemplate, podTemplateHash } from './pod-template.ts';

const DS_TYPE = { apiVersion: 'apps/v1', kind: 'DaemonSet' };

/** The tolerations the DaemonSet controller adds to every daemon pod (util.AddOrUpdateDaemonPodTolerations). */
export function daemonPodTolerations(hostNetwork: boolean): Array<Record<string, string>> {
  const tolerations: Array<Record<string, string>> = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork)
    tolerations.push({
      key: 'node.kubernetes.io/network-unavailable',
      operator: 'Exists',
      effect: 'NoSchedule',
    });
  return tolerations;
}

/** The pod spec of a daemon pod for a node: the template plus the default tolerations and node affinity pinning it to the node. */
function daemonPodSpec(template: KubeObject['spec'], nodeName: string): KubeObject['spec'] {
  const spec = structuredClone(template?.spec ?? {});
  const tolerations = [...(spec.tolerations ?? [])];
  for (const t of daemonPodTolerations(spec.hostNetwork === true)) {
    if (!tolerations.some((x: Record<string, string>) => x.key === t.key && x.effect === t.effect))
      tolerations.push(t);
  }
  spec.tolerations = tolerations;
  const nodeAffinity = spec.affinity?.nodeAffinity ?? {};
  spec.affinity = {
    ...(spec.affinity ?? {}),
    nodeAffinity: {
      ...nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
      },
    },
  };
  return spec;
}

function targetNode(pod: KubeObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms)
    for (const f of t.matchFields ?? [])
      if (f.key === 'metadata.name' && f.operator === 'In') return f.values?.[0];
  return undefined;
}

/**
 * The DaemonSet controller: one pod per eligible node (nodeSelector, required node affinity, taints
 * tolerated with the default daemon tolerations), pinned by node affinity and placed by the
 * scheduler; RollingUpdate replaces pods at most maxUnavailable at a time.
 * Twin simplification: no maxSurge for RollingUpdate; no ControllerRevision objects (the
 * controller-revision-hash label is the template hash); pods of deleted nodes are removed here rather than by the pod GC.
 */
export class DaemonSetController extends ReconcileController {
  readonly name = 'daemonset-controller';

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      { filter: DS_TYPE, keys: (e) => [keyOf(e.object)] },
      { filter: { kind: 'Pod' }, keys: (e) => controllerKeys('DaemonSet', e.object, e.oldObject) },
      { filter: { kind: 'Node' }, keys: () => this.ctx.store.list(DS_TYPE).map(keyOf) },
    ];
  }

  protected override onStart(): void {
    this.enqueue(...this.ctx.store.list(DS_TYPE).map(keyOf));
  }

  protected reconcile(key: string): void {
    const { store, clock, events } = this.ctx;
    const { namespace, name } = splitKey(key);
    const ds = store.get({ ...DS_TYPE, namespace, name });
    if (!ds) return;
    const now = clock.now();
    const minReadySeconds: number = ds.spec?.minReadySeconds ?? 0;
    const hash = podTemplateHash(ds.spec?.template);
    const nodes = store.list({ kind: 'Node' });
    const pods = listControlledBy(store, { kind: 'Pod' }, ds).filter((p) => !isPodTerminating(p));
    const byNode = new Map<string, KubeObject[]>();
    for (const p of pods) {
      const n = targetNode(p) ?? '';
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    const remove = (pod: KubeObject) => {
      store.delete(refOf(pod));
      events.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, this.name);
    };

    const nodeNames = new Set(nodes.map((n) => n.metadata.name));
    for (const [nodeName, list] of byNode) if (!nodeNames.has(nodeName)) for (const p of list) remove(p);

    const kept: KubeObject[] = [];
    let desired = 0;
    let misscheduled = 0;
    for (const node of nodes) {
      const spec = daemonPodSpec(ds.spec?.template, node.metadata.name);
      const selected = nodeMatchesPod(spec, node) && nodeMatchesPod(ds.spec?.template?.spec, node);
      const shouldRun =
        selected && untoleratedTaints(node, spec.tolerations, ['NoSchedule', 'NoExecute']).length === 0;
      const shouldContinue =
        selected && untoleratedTaints(node, spec.tolerations, ['NoExecute']).length === 0;
      let onNode = byNode.get(node.metadata.name) ?? [];
      const failed = onNode.filter(isPodTerminal);
      for (const p of failed) remove(p);
      onNode = onNode.filter((p) => !isPodTerminal(p));
      if (shouldRun) desired++;
      if (!shouldContinue) {
        if (onNode.length > 0) misscheduled++;
        for (const p of onNode) remove(p);
        continue;
      }
      if (onNode.length === 0 && shouldRun) {
        const pod = podFromTemplate(
          { ...ds.spec?.template, spec },
          {
            generateName: podsPrefix(ds.metadata.name),
            namespace,
            owner: ds,
            labels: {
              'controller-revision-hash': hash,
              'pod-template-generation': String(ds.metadata.generation ?? 1),
            },
          },
        );
        const created = store.create(pod);
        kept.push(created);
        events.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, this.name);
        continue;
      }
      onNode.sort((a, b) => creationTime(a) - creationTime(b));
      for (const p of onNode.slice(1)) remove(p);
      if (onNode[0]) kept.push(onNode[0]);
    }

    if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const maxUnavailable = scaledValue(
        ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable,
        desired,
        true,
        1,
      );
      const old = kept.filter((p) => p.metadata.labels?.['controller-revision-hash'] !== hash);
      const unavailable = desired - kept.filter((p) => isPodAvailable(p, minReadySeconds, now)).length;
      let budget = maxUnavailable - unavailable;
      for (const pod of old) {
        const available = isPodAvailable(pod, minReadySeconds, now);
        if (available && budget <= 0) continue;
        if (available) budget--;
        remove(pod);
        kept.splice(kept.indexOf(pod), 1);
      }
    }

    const status = {
      ...(ds.status ?? {}),
      observedGeneration: ds.metadata.generation,
      desiredNumberScheduled: desired,
      currentNumberScheduled: kept.length,
      numberMisscheduled: misscheduled,
      numberReady: kept.filter(isPodReady).length,
      numberAvailable: kept.filter((p) => isPodAvailable(p, minReadySeconds, now)).length,
      numberUnavailable: Math.max(
        0,
        desired - kept.filter((p) => isPodAvailable(p, minReadySeconds, now)).length,
      ),
      updatedNumberScheduled: kept.filter((p) => p.metadata.labels?.['controller-revision-hash'] === hash)
        .length,
    };
    store.patch(refOf(ds), (o) => {
      o.status = status;
    });
    const wait = nextAvailableIn(kept, minReadySeconds, now);
    if (wait !== undefined) this.enqueueAfter(key, wait);
  }
}
