import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KubeObject, TimelineEvent } from '../../../env/environment.ts';
import { localEnvironment } from '../../../env/local/local-environment.ts';
import { missingDataServices } from '../../../harness/data/requirements.ts';
import { writeReport } from '../../../harness/report/report-writer.ts';

const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const missing = missingDataServices(['postgres', 'redis']) ?? (hasKustomize ? undefined : 'needs kustomize');

const NS = 'data-services';
const CLUSTER = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', namespace: NS, name: 'postgres' };

const NOT_SECRET_KEYS = new Set(['username', 'user', 'host', 'port', 'dbname', 'database']);

/** Every value of every Secret (data decoded, stringData) long enough to be told from ordinary text. */
function secretValues(secrets: KubeObject[]): Array<{ secret: string; key: string; value: string }> {
  const out: Array<{ secret: string; key: string; value: string }> = [];
  for (const s of secrets) {
    const name = `${s.metadata.namespace}/${s.metadata.name}`;
    for (const [key, v] of Object.entries((s['data'] ?? {}) as Record<string, string>))
      out.push({ secret: name, key, value: Buffer.from(v, 'base64').toString('utf8') });
    for (const [key, v] of Object.entries((s['stringData'] ?? {}) as Record<string, string>))
      out.push({ secret: name, key, value: v });
  }
  // User, host and database names are not secret (a basic-auth Secret's username) and appear in
  // logs by design; short values cannot be told from ordinary text.
  return out.filter((x) => !NOT_SECRET_KEYS.has(x.key) && x.value.length >= 8);
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe.skipIf(missing !== undefined)(
  `no Secret value reaches an artefact of a run${missing ? ` (${missing})` : ''}`,
  () => {
    const dirs: string[] = [];
    afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

    it('lambda-microservice through a Postgres failover: the work directory, pod logs, report and timeline hold no Secret value', async () => {
      const reportDir = await mkdtemp(path.join(os.tmpdir(), 'twin-secrets-'));
      dirs.push(reportDir);
      const events: TimelineEvent[] = [];
      const env = await localEnvironment.up({
        system: 'lambda-microservice',
        workDir: path.join(reportDir, 'work'),
        readyTimeout: 120_000,
      });
      let values: ReturnType<typeof secretValues>;
      const logs: string[] = [];
      try {
        env.onEvent((e) => events.push(e));
        values = secretValues(await env.kube.list({ kind: 'Secret' }));
        expect(values.map((v) => `${v.secret}.${v.key}`)).toContain(
          'data-services/postgres-superuser.password',
        );
        // A failover makes the standbys follow the new primary: ALTER SYSTEM primary_conninfo and a
        // reload, which PostgreSQL logs with the new value.
        const before = (await env.kube.get(CLUSTER))!.status.currentPrimary as string;
        await env.faults.killPod({ namespace: NS, name: before });
        await env.kube.waitFor(
          CLUSTER,
          (c) => c?.status?.currentPrimary !== before && c?.status?.phase === 'Cluster in healthy state',
          { timeout: 120_000, what: `a new primary instead of ${before}, healthy` },
        );
        for (const pod of await env.kube.list({ kind: 'Pod' }, { namespace: NS }))
          logs.push(await env.kube.logs({ namespace: NS, name: pod.metadata.name }, { tailLines: 10_000 }));
        // The standbys reloaded with the new primary_conninfo: the scan below covers that log line.
        expect(logs.join('\n')).toMatch(/primary_conninfo/);
      } finally {
        await env.down();
      }
      const t0 = events[0]?.t ?? 0;
      await writeReport(
        reportDir,
        {
          runId: 'secrets',
          scenario: 'secrets-in-artefacts',
          environment: 'local',
          system: 'lambda-microservice',
          timeScale: env.clock.scale,
          startedAt: new Date().toISOString(),
          finishedAt: new Date().toISOString(),
          status: 'passed',
          steps: [],
          measurements: [],
          timeline: { samples: [], events: events.map((e) => ({ ...e, t: e.t - t0 })) },
          notes: [],
        },
        { junit: true },
      );
      const files = await filesUnder(reportDir);
      expect(files.some((f) => f.endsWith('.log'))).toBe(true);
      const found: string[] = [];
      for (const file of files) {
        const text = (await readFile(file)).toString('latin1');
        for (const v of values!)
          if (text.includes(v.value)) found.push(`${path.relative(reportDir, file)}: ${v.secret} ${v.key}`);
      }
      for (const text of [...logs, JSON.stringify(events)])
        for (const v of values!)
          if (text.includes(v.value)) found.push(`logs/timeline: ${v.secret} ${v.key}`);
      expect(found).toEqual([]);
    }, 300_000);
  },
);
