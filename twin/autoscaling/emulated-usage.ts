import type { KubeObject } from '../../kube/object.ts';
import { parseQuantity } from '../../kube/quantity.ts';

/** The load a workload sees: its total demand, spread evenly over its Ready pods. */
export interface WorkloadLoad {
  /** CPU cores the workload's traffic needs in all (e.g. 2.5). */
  cpuCores?: number;
  /** Memory in bytes the workload needs in all. */
  memoryBytes?: number;
}

/**
 * Emulated resource usage, as metrics-server would report it: scenario code sets the load a
 * workload (namespace/name of its Deployment, Rollout or StatefulSet) sees, and each of its Ready
 * pods uses an equal share, so scaling out lowers every pod's utilization as real traffic would.
 * Emulated pods only: live pods' usage is measured from their processes (live-usage.ts).
 * Twin simplification: an emulated pod's usage is the load the scenario sets, spread evenly over the workload's Ready pods.
 */
export class EmulatedUsage {
  private readonly loads = new Map<string, WorkloadLoad>();

  set(namespace: string, name: string, load: WorkloadLoad): void {
    this.loads.set(`${namespace}/${name}`, { ...load });
  }

  clear(namespace: string, name: string): void {
    this.loads.delete(`${namespace}/${name}`);
  }

  get(namespace: string, name: string): WorkloadLoad | undefined {
    return this.loads.get(`${namespace}/${name}`);
  }

  /** A pod's usage of `resource` (cores or bytes), or undefined when no load is set (no metrics). */
  podUsage(
    namespace: string,
    workload: string,
    readyPods: number,
    resource: 'cpu' | 'memory',
  ): number | undefined {
    const load = this.loads.get(`${namespace}/${workload}`);
    if (!load) return undefined;
    const total = resource === 'cpu' ? load.cpuCores : load.memoryBytes;
    if (total === undefined) return undefined;
    return total / Math.max(1, readyPods);
  }
}

/** The pod's summed container requests of a resource (cores or bytes); undefined when a container has none. */
export function podRequest(pod: KubeObject, resource: 'cpu' | 'memory'): number | undefined {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const q = c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource];
    if (q === undefined) return undefined;
    sum += parseQuantity(String(q));
  }
  return sum;
}
