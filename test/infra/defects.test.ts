import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { isTwinError } from '../../core/errors.ts';
import { REPO_ROOT } from '../../system/repo-root.ts';
import { loadSystem, resolveSystem } from '../../system/system.ts';
import { redisCall } from '../../twin/data/redis/redis-call.ts';
import { redisClusterSpec, roleStatefulSet } from '../../twin/redis-operator/redis-cluster-spec.ts';
import { Twin } from '../../twin/twin.ts';
import { dockerUnavailable, podOf, runInDocker, runOnTwin, twinUnavailable } from './image-differential.ts';

/**
 * Each defect the review of lambda-microservice's Redis found (issue 11), kept as a fixture that puts it
 * back into the production manifests (test/fixtures/defects/<name>/): on the twin it fails as the real
 * image fails on a cluster, with the image's own message, and the same container in Docker (the image
 * built from the same Dockerfile) gives the same outcome.
 */
const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync(t, ['version', '--client'], { stdio: 'ignore' }).status === 0,
);
const NS = 'data-services';

interface Defect {
  name: string;
  workload: string;
  container: string;
  /** The container exits, its last log line is this (as the real image's). */
  exits?: string;
  /** Or it serves, answering the probe so. */
  serves?: string;
}

const DEFECTS: Defect[] = [
  {
    name: 'sentinel-original-args',
    workload: 'redis-sentinel',
    container: 'sentinel',
    exits: "Can't resolve instance hostname.",
  },
  {
    name: 'sentinel-without-config-file',
    workload: 'redis-sentinel',
    container: 'sentinel',
    exits: 'Sentinel needs config file on disk to save state. Exiting...',
  },
  {
    name: 'redis-0-replicates-itself',
    workload: 'redis',
    container: 'redis',
    serves: 'redis slave (standalone mode)',
  },
];

const twinWhy = twinUnavailable();

// The OT redis image runs as user 1000; a new volume's root is root's. Without fsGroup the kubelet
// leaves it so, and redis-server cannot write its cluster configuration: the pod crashes.
const tonebridge = hasKustomize ? await loadSystem(await resolveSystem('tonebridge'), 'local') : undefined;
const tonebridgeObjects = tonebridge?.rendered.map((r) => r.object) ?? [];
const withoutFsGroup = structuredClone(tonebridgeObjects.find((o) => o.kind === 'RedisCluster'));
if (withoutFsGroup) delete withoutFsGroup.spec.podSecurityContext;
const leaders = withoutFsGroup
  ? roleStatefulSet(withoutFsGroup, redisClusterSpec(withoutFsGroup), 'leader')
  : undefined;
const leader = leaders?.spec.template.spec.containers[0];
const opstree = leader ? tonebridge?.bindings.resolve(leader.image)?.image : undefined;
const opstreeWhy = opstree ? (dockerUnavailable(opstree) ?? twinUnavailable()) : 'needs kubectl or kustomize';

describe('ToneBridge’s RedisCluster without podSecurityContext.fsGroup', () => {
  it.skipIf(opstreeWhy !== undefined)(
    `fails in Docker and on the twin alike${opstreeWhy ? ` (${opstreeWhy})` : ''}`,
    async () => {
      const c = {
        label: 'opstree without fsGroup',
        image: opstree!,
        pod: podOf(leaders!, 0),
        container: leader,
        objects: tonebridgeObjects,
      };
      const docker = await runInDocker(c);
      expect(docker).toMatchObject({ kind: 'exits', message: expect.stringMatching(/Permission denied/) });
      expect(await runOnTwin(c)).toEqual(docker);
    },
    180_000,
  );
});

describe.skipIf(!hasKustomize)(
  'defects of lambda-microservice’s Redis, put back (needs kubectl or kustomize)',
  () => {
    const twins: Twin[] = [];
    const workDirs: string[] = [];
    afterAll(async () => {
      for (const t of twins) await t.down();
      for (const d of workDirs) rmSync(d, { recursive: true, force: true });
    });

    for (const d of DEFECTS) {
      const dir = path.join(REPO_ROOT, 'test', 'fixtures', 'defects', d.name);

      it.skipIf(twinWhy !== undefined)(
        `${d.name}: fails on the twin as on a cluster${twinWhy ? ` (${twinWhy})` : ''}`,
        async () => {
          const system = await loadSystem(await resolveSystem(dir), 'local');
          const workDir = mkdtempSync(path.join(tmpdir(), `twin-defect-${d.name}-`));
          chmodSync(workDir, 0o755);
          workDirs.push(workDir);
          const log = () =>
            readFileSync(path.join(workDir, 'pods', `${NS}_${d.workload}-0`, `${d.container}.log`), 'utf8');
          if (d.exits) {
            const err = await Twin.up({ system, timeScale: 100, workDir, readyTimeoutMs: 20_000 }).then(
              (t) => {
                twins.push(t);
                return undefined;
              },
              (e: unknown) => e,
            );
            expect(isTwinError(err, 'TWIN_TIMEOUT'), String(err)).toBe(true);
            expect(String((err as Error).message)).toContain(`StatefulSet ${NS}/${d.workload} (0/`);
            expect(log()).toContain(d.exits);
          } else {
            const twin = await Twin.up({ system, timeScale: 100, workDir, readyTimeoutMs: 60_000 });
            twins.push(twin);
            const pod = twin.store.get({ kind: 'Pod', namespace: NS, name: `${d.workload}-0` })!;
            const addr = { host: pod.status.podIP as string, port: 6379 };
            const role = await redisCall<unknown[]>(addr, ['ROLE'], { connectMs: 2000, commandMs: 2000 });
            expect(role?.[0]).toBe('slave');
            expect(role?.[1]).toBe(`redis-0.redis-headless.${NS}.svc.cluster.local`);
            const client = new Redis({
              ...addr,
              lazyConnect: true,
              maxRetriesPerRequest: 0,
              retryStrategy: () => null,
            });
            client.on('error', () => {});
            try {
              await client.connect();
              await expect(client.set('k', 'v')).rejects.toThrow(
                "READONLY You can't write against a read only replica.",
              );
            } finally {
              client.disconnect();
            }
          }
        },
        120_000,
      );

      describe.skipIf(!hasKustomize)(`${d.name} in a container`, async () => {
        const system = await loadSystem(await resolveSystem(dir), 'local');
        const objects = system.rendered.map((r) => r.object);
        const sts = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === d.workload)!;
        const container = sts.spec.template.spec.containers.find((c: any) => c.name === d.container);
        const image = system.bindings.resolve(container.image)!.image!;
        const why = dockerUnavailable(image) ?? twinWhy;
        it.skipIf(why !== undefined)(
          `the same outcome in Docker and on the twin${why ? ` (${why})` : ''}`,
          async () => {
            const c = { label: d.name, image, pod: podOf(sts, 0), container, objects };
            const docker = await runInDocker(c);
            expect(docker).toEqual(
              d.exits ? { kind: 'exits', code: 1, message: d.exits } : { kind: 'serves', answer: d.serves },
            );
            expect(await runOnTwin(c)).toEqual(docker);
          },
          180_000,
        );
      });
    }
  },
);
