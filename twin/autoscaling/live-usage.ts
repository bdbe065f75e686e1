import type { KubeObject } from '../../kube/object.ts';
import { processGroupsUsage } from '../kubelet/process-usage.ts';

interface Sample {
  at: number;
  cpuSeconds: number;
  memoryBytes: number;
}

/** How the live usage finds a pod's processes: the process groups of its running live containers, undefined for a pod with none (emulated). */
export type PodProcessGroups = (pod: KubeObject) => number[] | undefined;

/**
 * The resource usage of live pods, measured from their processes as the kubelet measures a pod's
 * cgroup and metrics-server serves it (metrics.k8s.io): CPU as cores, the rate of the pod's
 * cumulative CPU time over the last window; memory as bytes resident now. Samples are taken in real
 * time (live processes run in real time whatever the control-plane clock's scale).
 * Twin simplification: a pod's usage is read from /proc for its containers' process groups (CPU time including reaped children, resident set size), not from its cgroup: memory is RSS rather than the cgroup's working set, and a process that leaves its group (setsid) is not counted (https://kubernetes.io/docs/reference/instrumentation/cri-pod-container-metrics/).
 */
export class LiveUsage {
  private readonly samples = new Map<string, Sample[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly groupsOf: PodProcessGroups,
    private readonly listPods: () => KubeObject[],
    /** Real milliseconds the CPU rate is taken over (metrics-server's resolution is 15 s on a cluster; shorter here, as the control-plane clock usually runs faster). */
    private readonly windowMs = 2000,
    private readonly intervalMs = 500,
    private readonly procDir = '/proc',
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.sampleAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Samples every live pod once (the interval does this; tests call it). */
  sampleAll(now = performance.now()): void {
    const seen = new Set<string>();
    const pods: Array<{ uid: string; groups: number[] }> = [];
    for (const pod of this.listPods()) {
      const uid = pod.metadata.uid;
      const groups = uid ? this.groupsOf(pod) : undefined;
      if (uid && groups && groups.length > 0) pods.push({ uid, groups });
    }
    const usage = processGroupsUsage(new Set(pods.flatMap((p) => p.groups)), this.procDir);
    for (const { uid, groups } of pods) {
      seen.add(uid);
      const u = { cpuSeconds: 0, memoryBytes: 0 };
      for (const g of groups) {
        u.cpuSeconds += usage.get(g)?.cpuSeconds ?? 0;
        u.memoryBytes += usage.get(g)?.memoryBytes ?? 0;
      }
      const list = this.samples.get(uid) ?? [];
      const last = list.at(-1);
      // A container restarted (its CPU time starts again): the window starts again with it.
      if (last && u.cpuSeconds < last.cpuSeconds) list.length = 0;
      list.push({ at: now, cpuSeconds: u.cpuSeconds, memoryBytes: u.memoryBytes });
      while (list.length > 2 && list[1]!.at <= now - this.windowMs) list.shift();
      this.samples.set(uid, list);
    }
    for (const uid of this.samples.keys()) if (!seen.has(uid)) this.samples.delete(uid);
  }

  /** The pod's usage of `resource` (cores or bytes); undefined for a pod that runs nothing live or has not been sampled twice yet. */
  podUsage(pod: KubeObject, resource: 'cpu' | 'memory'): number | undefined {
    const list = this.samples.get(pod.metadata.uid ?? '');
    if (!list || list.length === 0) return undefined;
    const last = list.at(-1)!;
    if (resource === 'memory') return last.memoryBytes;
    const first = list[0]!;
    if (list.length < 2 || last.at - first.at <= 0) return undefined;
    return (last.cpuSeconds - first.cpuSeconds) / ((last.at - first.at) / 1000);
  }

  /** Whether the pod runs live containers (its usage is measured, not emulated). */
  isLive(pod: KubeObject): boolean {
    const groups = this.groupsOf(pod);
    return groups !== undefined && groups.length > 0;
  }
}
