import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { TwinError } from '../../core/errors.ts';
import { ScaledClock } from '../../kube/clock.ts';
import { loadSystem, resolveSystem } from '../../system/system.ts';
import type { EnvironmentOptions } from '../environment.ts';
import { ClientNodeKubeApi } from '../kube-client.ts';
import { clusterEnvironment } from './cluster-backend.ts';
import { type ClusterEnvironment, deployOnCluster } from './cluster-environment.ts';
import { ClusterFaults } from './cluster-faults.ts';
import { type ClusterTarget, loadClusterTarget } from './kubeconfig.ts';
import { describeRef, SystemDeployment } from './system-deployment.ts';

/**
 * Brings a system up on an existing cluster. Everything is read and checked before anything is
 * written to the cluster: the kubeconfig and context, the overlay (rendered and validated), the
 * cluster reachable, the system's add-ons' CRDs served.
 */
export async function upCluster(options: EnvironmentOptions): Promise<ClusterEnvironment> {
  const progress = options.progress ?? (() => {});
  const target = loadClusterTarget(options);
  const layout = await resolveSystem(options.system);
  if (!options.overlay) {
    const overlays = (await import('node:fs'))
      .readdirSync(path.join(layout.dir, 'k8s', 'overlays'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--env cluster needs --overlay: which overlay of ${layout.name} to deploy on context "${target.context}" (overlays: ${overlays.join(', ')})`,
    );
  }
  const system = await loadSystem(layout, options.overlay, progress);
  const kube = new ClientNodeKubeApi(target.kc);
  await assertReachable(target);
  await assertAddonsServed(kube, target, system.addons);
  const timeScale = options.timeScale ?? 1;
  const clock = new ScaledClock(timeScale, await clusterNow(target, timeScale, progress));
  progress(
    `cluster: context ${target.context} (${target.server}); deploying ${layout.name} overlay ${options.overlay}`,
  );
  // The kubeconfig real clients (kubectl exec, the scenario's report) use: this context only, 0600, removed on down.
  const stateDir = path.join(options.workDir, 'cluster');
  await mkdir(stateDir, { recursive: true });
  const kubeconfigFile = path.join(stateDir, 'kubeconfig');
  await writeFile(kubeconfigFile, target.kc.exportConfig(), { mode: 0o600 });
  return deployOnCluster(
    {
      name: 'cluster',
      connection: { kc: target.kc, kube, kubeconfigFile, context: target.context },
      deployment: new SystemDeployment(
        kube,
        system.rendered.map((r) => r.object),
      ),
      clock,
      faults: (emit) => new ClusterFaults(kube, emit, clusterEnvironment),
      teardown: () => rm(stateDir, { recursive: true, force: true }),
      progress,
    },
    { ...(options.signal ? { signal: options.signal } : {}) },
  );
}

/**
 * The cluster's own clock, as its API server stamps objects (creationTimestamp of a dry-run create,
 * which stores nothing): object timestamps and the environment's clock then agree, whatever the skew
 * between this machine and the cluster, or the scale and start of a twin reached as a cluster. The
 * stamp has whole seconds; the middle of that second is taken. Without the right to create a
 * ConfigMap in `default`, this machine's clock is used and a progress line says so.
 */
async function clusterNow(
  target: ClusterTarget,
  scale: number,
  progress: (m: string) => void,
): Promise<number> {
  const t0 = performance.now();
  try {
    const probe = await target.kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({
      namespace: 'default',
      dryRun: 'All',
      body: { metadata: { generateName: 'infra-twin-clock-' } },
    });
    const stamp = new Date(probe.metadata?.creationTimestamp ?? Number.NaN).getTime();
    if (!Number.isFinite(stamp)) throw new Error('no creationTimestamp in the answer');
    return stamp + 500 + ((performance.now() - t0) / 2) * scale;
  } catch (err) {
    progress(
      `cluster: cannot read the cluster's clock (dry-run create of a ConfigMap in default: ${(err as Error).message.split('\n')[0]}); timestamps are compared with this machine's clock`,
    );
    return Date.now();
  }
}

/** GET /version with the context's credentials: a clear error naming the server when it does not answer. */
async function assertReachable(target: ClusterTarget): Promise<void> {
  try {
    await target.kc.makeApiClient(VersionApi).getCode();
  } catch (err) {
    const code = (err as { code?: number | string }).code;
    throw new TwinError(
      'TWIN_ENV_UNAVAILABLE',
      `context "${target.context}": the API server ${target.server} did not answer GET /version (${code ?? ''} ${(err as Error).message.split('\n')[0]}); check the cluster is up and the credentials of ${target.files.join(', ')}`,
    );
  }
}

/**
 * The system's add-ons (addons.yaml) must already be installed: the cluster environment does not
 * install cluster-wide controllers into a cluster it does not own. Their CRDs are how it tells.
 */
async function assertAddonsServed(
  kube: ClientNodeKubeApi,
  target: ClusterTarget,
  addons: Awaited<ReturnType<typeof loadSystem>>['addons'],
): Promise<void> {
  const missing: string[] = [];
  for (const addon of addons) {
    const absent: string[] = [];
    for (const crd of addon.crds) {
      const ref = {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name: crd.metadata.name,
      };
      if (!(await kube.get(ref))) absent.push(describeRef(ref).replace('CustomResourceDefinition ', ''));
    }
    if (absent.length > 0)
      missing.push(`${addon.title} ${addon.version} (CRDs not served: ${absent.join(', ')})`);
  }
  if (missing.length > 0)
    throw new TwinError(
      'TWIN_ENV_UNAVAILABLE',
      `context "${target.context}" lacks add-ons the system's addons.yaml lists: ${missing.join('; ')}. Install them in the cluster (the cluster environment deploys the system, not cluster-wide controllers), or use --env k3d, which installs them`,
    );
}
