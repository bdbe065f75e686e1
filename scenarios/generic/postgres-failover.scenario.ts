import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../env/environment.ts';
import { missingDataServices, NumberedWriter, scenario, secretPgTarget } from '../../harness/index.ts';
import { pollUntil, sleep } from '../support/cluster-state.ts';
import { cnpgClusters, genericTarget } from './support/system-target.ts';

const HEALTHY = 'Cluster in healthy state';

/**
 * Failover of any CloudNativePG Cluster the system defines (generic: TWIN_PG_CLUSTER=<namespace>/<name>,
 * else the system's first Cluster with more than one instance). Numbered transactions go through
 * `<cluster>-rw` with the owner's credentials (the `<cluster>-app` Secret, or the initdb secret the
 * Cluster names); the primary pod is killed; a standby must be promoted, commits must resume on it,
 * and the old primary must rejoin as a standby. Committed transactions lost are counted, and must be
 * none where the Cluster asks for synchronous replication.
 */
const missing = missingDataServices(['postgres']);
const target = missing ? undefined : genericTarget('postgres-failover');
if (missing) describe.skip(`postgres-failover (${missing})`, () => it('runs live PostgreSQL', () => {}));
else if (target)
  scenario('postgres-failover', { ...target, upTimeoutMs: 240_000 }, (s) => {
    let cluster: KubeObject;
    let ref = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', namespace: '', name: '' };
    let writer: NumberedWriter;

    it('commits numbered transactions through <cluster>-rw in steady state', async () => {
      const env = s.env;
      const all = (await cnpgClusters(env)).filter((c) => (c.spec?.instances ?? 1) > 1);
      s.measure('CloudNativePG Clusters with standbys', all.length, 'Clusters', { atLeast: 1 });
      const wanted = process.env['TWIN_PG_CLUSTER'];
      const found = wanted
        ? all.find((c) => `${c.metadata.namespace}/${c.metadata.name}` === wanted)
        : all[0];
      expect(found, wanted ? `Cluster ${wanted}` : 'a Cluster with more than one instance').toBeDefined();
      cluster = found!;
      ref = { ...ref, namespace: cluster.metadata.namespace ?? 'default', name: cluster.metadata.name };
      await s.step(`wait for Cluster ${ref.namespace}/${ref.name} to be healthy`, () =>
        env.kube.waitFor(
          ref,
          (c) =>
            c?.status?.phase === HEALTHY && (c?.status?.readyInstances ?? 0) >= (c?.spec?.instances ?? 1),
          {
            timeout: 180_000,
            what: `Cluster ${ref.name} "${HEALTHY}" with every instance ready`,
          },
        ),
      );
      const secret = cluster.spec?.bootstrap?.initdb?.secret?.name ?? `${ref.name}-app`;
      const app = await secretPgTarget(env, { namespace: ref.namespace, secret, service: `${ref.name}-rw` });
      writer = new NumberedWriter(app, 'generic');
      await s.step('create the probe table', () => writer.prepare());
      writer.start();
      const t0 = performance.now();
      await sleep(1500);
      s.measure('steady-state commits', writer.acked.filter((a) => a.at >= t0).length, 'transactions', {
        atLeast: 10,
      });
      s.measure('steady-state failed transactions', writer.failures.length, 'transactions', { equals: 0 });
    });

    it('kills the primary: a standby is promoted, commits resume, the old primary rejoins', async () => {
      const env = s.env;
      const before = (await env.kube.get(ref))!;
      const oldPrimary: string = before.status.currentPrimary;
      const failovers = before.status.currentPrimaryFailoverCount ?? 0;
      const oldServer = writer.lastServer!;
      const faultAt = performance.now();
      await s.step(`kill the primary pod ${oldPrimary}`, () =>
        env.faults.killPod({ namespace: ref.namespace, name: oldPrimary }),
      );
      const promoted = await s.step('wait for the controller to promote a standby', () =>
        env.kube.waitFor(
          ref,
          (c) =>
            (c?.status?.currentPrimaryFailoverCount ?? 0) > failovers &&
            c?.status?.currentPrimary !== oldPrimary,
          { timeout: 60_000, what: `a new primary instead of ${oldPrimary}` },
        ),
      );
      const promotedAt = performance.now();
      s.event('PrimaryPromoted', `${promoted?.status?.currentPrimary} promoted (was ${oldPrimary})`);
      await s.step(`wait for commits through ${ref.name}-rw again`, () =>
        writer.waitForAcks(promotedAt, 10, 60_000),
      );
      const outage = writer.outageFrom(oldServer);
      expect(outage, `a commit on another server than the old primary (${oldServer})`).toBeDefined();
      s.measure('time to promotion', (promotedAt - faultAt) / 1000, 's', { below: 30 });
      s.measure(`RTO: no commit through ${ref.name}-rw`, outage!.ms / 1000, 's', {
        below: 45,
        description: `from the last commit on the old primary (${oldServer}) to the first on the new one`,
      });
      await writer.stop();
      const lost = await writer.lostCommitted();
      const sync =
        (cluster.spec?.minSyncReplicas ?? 0) > 0 || cluster.spec?.postgresql?.synchronous !== undefined;
      s.measure('committed transactions lost', lost.length, 'transactions', {
        ...(sync ? { equals: 0 } : {}),
        description: sync
          ? 'synchronous replication: a commit returns once a standby has the WAL'
          : 'asynchronous replication: commits not yet streamed when the primary died can be lost',
      });
      s.measure('transactions committed in total', writer.acked.length, 'transactions', { atLeast: 20 });
      const rejoin = performance.now();
      await s.step(`wait for ${oldPrimary} to rejoin and the Cluster to be healthy`, () =>
        pollUntil(
          async () => {
            const c = await env.kube.get(ref);
            const pod = await env.kube.get({ kind: 'Pod', namespace: ref.namespace, name: oldPrimary });
            const ready = (pod?.status?.conditions ?? []).some(
              (x: any) => x.type === 'Ready' && x.status === 'True',
            );
            return c?.status?.phase === HEALTHY &&
              (c?.status?.readyInstances ?? 0) >= (c?.spec?.instances ?? 1) &&
              pod?.metadata.labels?.['cnpg.io/instanceRole'] === 'replica' &&
              ready
              ? true
              : undefined;
          },
          {
            timeoutMs: 120_000,
            what: `Cluster ${ref.name} healthy with ${oldPrimary} back as a standby`,
            everyMs: 200,
          },
        ),
      );
      s.measure('old primary rejoined (Cluster healthy again)', (performance.now() - rejoin) / 1000, 's', {
        below: 90,
      });
    });
  });
