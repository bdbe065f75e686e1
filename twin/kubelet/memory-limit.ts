import { parseQuantity } from '../../kube/quantity.ts';
import { processGroupsUsage } from './process-usage.ts';

/** How often a live container's memory is checked against its limit (real milliseconds). */
export const MEMORY_CHECK_INTERVAL_MS = 500;

/** A container's memory limit in bytes (resources.limits.memory), or undefined when it has none. */
export function memoryLimitBytes(container: {
  resources?: { limits?: { memory?: unknown } };
}): number | undefined {
  const q = container.resources?.limits?.memory;
  return q === undefined ? undefined : parseQuantity(String(q));
}

interface Watch {
  limitBytes: number;
  kill: (usedBytes: number) => void;
}

/** Every watched container, checked together: one pass over /proc per interval, however many containers run. */
const watches = new Map<number, Watch>();
let timer: NodeJS.Timeout | undefined;
let procRoot = '/proc';

function checkAll(): void {
  const usage = processGroupsUsage(new Set(watches.keys()), procRoot);
  for (const [group, w] of watches) {
    const used = usage.get(group)?.memoryBytes ?? 0;
    if (used > w.limitBytes) {
      watches.delete(group);
      w.kill(used);
    }
  }
  if (watches.size === 0 && timer) {
    clearInterval(timer);
    timer = undefined;
  }
}

/**
 * Enforces a live container's memory limit: when the resident memory of its process group goes over
 * the limit, `kill` is called once (the kubelet kills the whole group, as the kernel's OOM killer does
 * to a container's cgroup with memory.oom.group, which the kubelet sets on cgroup v2).
 * Twin simplification: memory is polled from /proc every 500 ms (one pass for all containers, about 10 ms of CPU here) instead of charged by the kernel at each allocation, so a container can go over its limit between checks and a spike shorter than that can escape (https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#requests-and-limits).
 * Returns the function that stops the watch.
 */
export function watchMemoryLimit(
  processGroup: number,
  limitBytes: number,
  kill: (usedBytes: number) => void,
  procDir = '/proc',
): () => void {
  procRoot = procDir;
  const w: Watch = { limitBytes, kill };
  watches.set(processGroup, w);
  if (!timer) {
    timer = setInterval(checkAll, MEMORY_CHECK_INTERVAL_MS);
    timer.unref();
  }
  return () => {
    if (watches.get(processGroup) === w) watches.delete(processGroup);
  };
}
