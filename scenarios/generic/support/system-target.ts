import { describe, it } from 'vitest';
import type { Environment, KubeObject } from '../../../env/environment.ts';
import { runOptionsFromWorker, type ScenarioOptions } from '../../../harness/index.ts';

/**
 * The system a generic scenario runs on: `twin scenario <name> --system <name|dir>` (or the only
 * system of twin.yaml) reaches the scenario's worker in its run options (TWIN_RUN_OPTIONS). Without one the
 * scenario is skipped, saying so (it has no system of its own).
 */
export function genericTarget(name: string): Pick<ScenarioOptions, 'system' | 'overlay'> | undefined {
  const run = runOptionsFromWorker();
  if (!run.system) {
    describe.skip(`${name} (generic: run it with \`twin scenario ${name} --system <name|dir>\`)`, () =>
      it('runs on a named system', () => {}));
    return undefined;
  }
  return { system: run.system, ...(run.overlay ? { overlay: run.overlay } : {}) };
}

/** Kinds whose pods a ReplicaSet replaces wherever there is room (what a zone outage moves). */
export const REPLICATED_KINDS = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' },
] as const;

/** A workload of the system: the object, its namespace and its pods' selector. */
export interface Workload {
  kind: string;
  namespace: string;
  name: string;
  replicas: number;
  selector: Record<string, string>;
}

/** The system's Deployments and Rollouts (Rollouts where the environment serves the kind), outside kube-system. */
export async function replicatedWorkloads(env: Environment): Promise<Workload[]> {
  const out: Workload[] = [];
  for (const k of REPLICATED_KINDS) {
    let objects: KubeObject[] = [];
    try {
      objects = await env.kube.list({ apiVersion: k.apiVersion, kind: k.kind });
    } catch {
      continue; // the kind is not served: the system has no add-on for it
    }
    for (const o of objects) {
      const ns = o.metadata.namespace ?? 'default';
      if (ns === 'kube-system' || ns.startsWith('twin-')) continue;
      const selector = o.spec?.selector?.matchLabels;
      if (!selector) continue;
      out.push({
        kind: k.kind,
        namespace: ns,
        name: o.metadata.name,
        replicas: o.spec?.replicas ?? 1,
        selector,
      });
    }
  }
  return out.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** `Kind ns/name`, as the reports name a workload. */
export function describeWorkload(w: { kind: string; namespace: string; name: string }): string {
  return `${w.kind} ${w.namespace}/${w.name}`;
}

/** The CloudNativePG Clusters of the system (none where the add-on is not installed). */
export async function cnpgClusters(env: Environment): Promise<KubeObject[]> {
  try {
    return await env.kube.list({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster' });
  } catch {
    return [];
  }
}

/** Waits until every CloudNativePG Cluster of the system has all its instances ready. */
export async function waitForClusters(env: Environment, timeoutMs: number): Promise<KubeObject[]> {
  const clusters = await cnpgClusters(env);
  for (const c of clusters)
    await env.kube.waitFor(
      {
        apiVersion: 'postgresql.cnpg.io/v1',
        kind: 'Cluster',
        namespace: c.metadata.namespace!,
        name: c.metadata.name,
      },
      (x) => (x?.status?.readyInstances ?? 0) >= (x?.spec?.instances ?? 1),
      {
        timeout: timeoutMs,
        what: `Cluster ${c.metadata.namespace}/${c.metadata.name}: every instance ready`,
      },
    );
  return clusters;
}
