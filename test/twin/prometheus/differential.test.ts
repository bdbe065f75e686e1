import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Counter, Gauge, Histogram } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../kube/clock.ts';
import { parseFlags } from '../../../twin/prometheus/command-line.ts';
import { PrometheusServer } from '../../../twin/prometheus/prometheus-server.ts';
import { type ApiBody, diffResponses } from './differential/compare-results.ts';
import { INSTANT_QUERIES, RANGE_QUERIES } from './differential/query-table.ts';
import {
  freePort,
  hasPrometheus,
  prometheusVersion,
  type RunningReference,
  startReferencePrometheus,
} from './differential/reference-prometheus.ts';
import { SteppedTarget } from './differential/stepped-target.ts';

/**
 * The twin's Prometheus against Debian's real one: both scrape the same targets with the same
 * configuration (static_configs and file_sd_configs; Debian's build has no Kubernetes discovery)
 * and must give the same answers. The data carry explicit timestamps, so both servers hold the
 * same samples and only float rounding may differ; staleness is checked on a target without
 * timestamps, where only which series exist is compared.
 */
const STEPS = 60;
const STEP_MS = 15_000;

const RELABEL_JOB = `
  - job_name: relabelled
    scrape_interval: 1h
    scrape_timeout: 10s
    static_configs:
      - targets: ['127.77.9.1:9100', '127.77.9.2:9100', '127.77.9.3', '127.77.9.5:9100', '127.77.9.6:9100']
        labels: { team: Platform, env: prod, __meta_custom: x }
      - targets: ['127.77.9.4:9100']
        labels: { team: drop-me, env: prod }
      - targets: ['127.77.9.7:9100']
        labels: { team: Platform, env: dev }
    relabel_configs:
      - source_labels: [team]
        regex: drop-me
        action: drop
      - source_labels: [env]
        regex: prod|staging
        action: keep
      - source_labels: [__address__]
        regex: '([^:]+):(\\d+)'
        target_label: host
        replacement: '\${1}'
      - source_labels: [__address__]
        target_label: shard
        modulus: 4
        action: hashmod
      - source_labels: [team]
        target_label: team_lower
        action: lowercase
      - source_labels: [team]
        target_label: team_upper
        action: uppercase
      - regex: __meta_(custom)
        replacement: meta_$1
        action: labelmap
      - source_labels: [host, env]
        separator: /
        target_label: host_env
      - source_labels: [team]
        target_label: __tmp_team
      - source_labels: [__tmp_team]
        target_label: team
        action: keepequal
      - source_labels: [team_lower]
        target_label: team_upper
        action: dropequal
      - regex: env
        action: labeldrop
      - regex: job|instance|__.*|host.*|shard|team.*|meta_custom
        action: labelkeep
      - source_labels: [shard]
        regex: '[$1]'
        target_label: shard_\${1}
        replacement: x
`;

describe.skipIf(!hasPrometheus)(
  'twin Prometheus against Debian prometheus (needs /usr/bin/prometheus)',
  () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prom-diff-'));
    const a = new SteppedTarget('127.77.0.1');
    const b = new SteppedTarget('127.77.0.2');
    const c = new SteppedTarget('127.77.0.3');
    let reference: RunningReference;
    let twin: PrometheusServer;
    let twinUrl: string;
    let t0 = 0;
    const tEnd = () => t0 + (STEPS - 1) * STEP_MS;

    const get = async (base: string, p: string, params: Record<string, string>): Promise<ApiBody> => {
      const res = await fetch(`${base}${p}?${new URLSearchParams(params)}`);
      return (await res.json()) as ApiBody;
    };
    const both = (p: string, params: Record<string, string>) =>
      Promise.all([get(twinUrl, p, params), get(reference.url, p, params)]);
    const at = (q: string) =>
      q.replaceAll('@T0', String(t0 / 1000)).replaceAll('@TEND', String(tEnd() / 1000));

    beforeAll(async () => {
      // 60 steps of 15 s ending 5 minutes ago: recent enough for the reference's head block.
      t0 = Math.floor((Date.now() - (STEPS * STEP_MS + 5 * 60_000)) / STEP_MS) * STEP_MS;
      const addrA = await a.start();
      const addrB = await b.start();
      const addrC = await c.start();
      mkdirSync(path.join(dir, 'sd'));
      writeFileSync(
        path.join(dir, 'sd', 'b.json'),
        JSON.stringify([{ targets: [addrB], labels: { instance: 'b', zone: 'b' } }]),
      );
      const configFile = path.join(dir, 'prometheus.yml');
      writeFileSync(
        configFile,
        `global:
  scrape_interval: 100ms
  scrape_timeout: 100ms
  evaluation_interval: 15s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ['${addrA}']
        labels: { instance: a, zone: a }
    file_sd_configs:
      - files: ['${dir}/sd/*.json']
        refresh_interval: 1s
  - job_name: plain
    static_configs:
      - targets: ['${addrC}']
${RELABEL_JOB}`,
      );
      reference = await startReferencePrometheus(configFile);
      const port = await freePort();
      const flags = parseFlags([`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`]);
      twin = new PrometheusServer({
        flags,
        configFile,
        clock: new ScaledClock(1),
        host: '127.0.0.1',
        port,
        env: {},
        serviceAccountDir: '/nonexistent',
        log: () => {},
      });
      await twin.start();
      twinUrl = `http://127.0.0.1:${port}`;

      const requests = (t: SteppedTarget) =>
        new Counter({
          name: 'http_requests_total',
          help: 'requests',
          labelNames: ['method', 'route', 'code'],
          registers: [t.registry],
        });
      const duration = (t: SteppedTarget) =>
        new Histogram({
          name: 'http_request_duration_seconds',
          help: 'latency',
          labelNames: ['route'],
          buckets: [0.05, 0.1, 0.25, 0.5, 1],
          registers: [t.registry],
        });
      const gauge = (t: SteppedTarget, name: string) =>
        new Gauge({ name, help: name, registers: [t.registry] });
      const reqA = requests(a);
      const reqB = requests(b);
      const durA = duration(a);
      const durB = duration(b);
      const queueA = gauge(a, 'queue_depth');
      const queueB = gauge(b, 'queue_depth');
      const tempA = gauge(a, 'temperature_celsius');
      const tempB = gauge(b, 'temperature_celsius');
      const legacyB = gauge(b, 'legacy_metric');
      const markerA = gauge(a, 'step_marker');
      const markerB = gauge(b, 'step_marker');
      const plain = new Gauge({
        name: 'plain_gauge',
        help: 'plain',
        labelNames: ['kind'],
        registers: [c.registry],
      });
      plain.set({ kind: 'kept' }, 1);
      plain.set({ kind: 'removed' }, 2);
      await c.publish(0, false);

      const predict = { method: 'GET', route: '/api/v1/predict' };
      for (let k = 0; k < STEPS; k++) {
        const t = t0 + k * STEP_MS;
        if (k === 30) {
          reqA.reset(); // a restarted process: its counters start again
          durA.reset();
        }
        reqA.inc({ ...predict, code: '200' }, 20 + (k % 7));
        reqA.inc({ method: 'GET', route: '/api/v1/version', code: '200' }, 5);
        if (k >= 10) reqA.inc({ ...predict, code: '500' }, k % 5 === 0 ? 2 : 0);
        reqB.inc({ ...predict, code: '200' }, 10 + (k % 3));
        reqB.inc({ ...predict, code: '503' }, k % 4 === 0 ? 1 : 0);
        for (let i = 0; i < 10; i++) {
          durA.observe({ route: '/api/v1/predict' }, ((i * 37 + k * 11) % 100) / 80);
          durB.observe({ route: '/api/v1/predict' }, ((i * 13 + k * 7) % 100) / 300);
        }
        queueA.set(k === 20 ? Number.NaN : Math.round(10 * Math.sin(k / 5)) + 5);
        queueB.set((k * 3) % 11);
        tempA.set(-5 + k * 0.5);
        tempB.set(20 - k * 0.25);
        if (k < 40) legacyB.set(k * 2);
        else legacyB.reset();
        markerA.set(k);
        markerB.set(k);
        await a.publish(t);
        await b.publish(t);
        await waitForStep(t);
      }
    }, 240_000);

    /** Both servers hold the step's samples of both instances. */
    async function waitForStep(t: number): Promise<void> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const results = await both('/api/v1/query', {
          query: 'timestamp(step_marker)',
          time: String(t / 1000),
        });
        const ok = results.every(
          (r) =>
            r.status === 'success' &&
            r.data!.result.length === 2 &&
            r.data!.result.every((s: any) => Number(s.value[1]) * 1000 === t),
        );
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`step ${t} not ingested: ${JSON.stringify(results)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    afterAll(async () => {
      await twin?.close();
      await reference?.stop();
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    });

    it(`answers every instant query as ${hasPrometheus ? prometheusVersion() : 'prometheus'} does`, async () => {
      const times = [tEnd(), tEnd() - 137_000, t0 + 61_500, t0 + 30 * STEP_MS + 7000, t0 + 9 * STEP_MS];
      const failures: string[] = [];
      for (const q of INSTANT_QUERIES) {
        for (const t of times) {
          const [mine, theirs] = await both('/api/v1/query', { query: at(q), time: String(t / 1000) });
          const diff = diffResponses(mine, theirs, /^sort(_desc)?\(/.test(q));
          if (diff) failures.push(`${q} @ ${t / 1000}: ${diff}`);
        }
      }
      expect(failures).toEqual([]);
    }, 120_000);

    it('answers the range queries as Prometheus does', async () => {
      const failures: string[] = [];
      for (const [q, from, to, step] of RANGE_QUERIES) {
        const params = {
          query: at(q),
          start: String(t0 / 1000 + from),
          end: String(t0 / 1000 + to),
          step: String(step),
        };
        const [mine, theirs] = await both('/api/v1/query_range', params);
        const diff = diffResponses(mine, theirs, false);
        if (diff) failures.push(`${q} [${from}s..${to}s step ${step}s]: ${diff}`);
      }
      expect(failures).toEqual([]);
    }, 60_000);

    it('rejects range queries and parameters as Prometheus does', async () => {
      const cases: Array<[string, Record<string, string>]> = [
        ['/api/v1/query_range', { query: 'http_requests_total[1m]', start: '0', end: '10', step: '1' }],
        ['/api/v1/query_range', { query: 'up', start: '10', end: '0', step: '1' }],
        ['/api/v1/query_range', { query: 'up', start: '0', end: '10', step: '0' }],
        ['/api/v1/query_range', { query: 'up', start: '0', end: '100000', step: '1' }],
        ['/api/v1/query', { query: 'up', time: 'yesterday' }],
        ['/api/v1/query', { query: '' }],
        ['/api/v1/series', {}],
      ];
      for (const [p, params] of cases) {
        const [mine, theirs] = await both(p, params);
        expect(diffResponses(mine, theirs, false), `${p} ${JSON.stringify(params)}`).toBeUndefined();
      }
    });

    it('lists series, label names and label values as Prometheus does', async () => {
      const range = { start: String(t0 / 1000), end: String(tEnd() / 1000) };
      const sort = (v: unknown) => (Array.isArray(v) ? [...v].map((x) => JSON.stringify(x)).sort() : v);
      for (const [p, params] of [
        ['/api/v1/series', { 'match[]': 'http_requests_total', ...range }],
        ['/api/v1/series', { 'match[]': '{__name__=~"queue_depth|legacy_metric"}', ...range }],
        ['/api/v1/label/code/values', { 'match[]': 'http_requests_total', ...range }],
        ['/api/v1/label/route/values', range],
        ['/api/v1/labels', { 'match[]': 'http_request_duration_seconds_bucket', ...range }],
      ] as const) {
        const [mine, theirs] = await both(p, params as Record<string, string>);
        expect(mine.status, p).toBe('success');
        expect(sort(mine.data), `${p} ${JSON.stringify(params)}`).toEqual(sort(theirs.data));
      }
    });

    it('relabels targets as Prometheus does (every action, defaults, hashmod)', async () => {
      const [mine, theirs] = await both('/api/v1/targets', { scrapePool: 'relabelled' });
      const active = (r: ApiBody) =>
        (r.data as any).activeTargets
          .filter((t: any) => t.scrapePool === 'relabelled')
          .map((t: any) =>
            JSON.stringify({ labels: t.labels, discovered: t.discoveredLabels, url: t.scrapeUrl }),
          )
          .sort();
      const dropped = (r: ApiBody) =>
        (r.data as any).droppedTargets
          .filter((t: any) => t.discoveredLabels.job === 'relabelled')
          .map((t: any) => JSON.stringify(t.discoveredLabels))
          .sort();
      expect(active(mine).length).toBeGreaterThan(0);
      expect(active(mine)).toEqual(active(theirs));
      expect(dropped(mine)).toEqual(dropped(theirs));
    });

    it('marks series stale when a scrape no longer returns them and when the target is down', async () => {
      const series = async () =>
        (await both('/api/v1/query', { query: 'plain_gauge' })).map((r) =>
          (r.data!.result as any[]).map((s) => s.metric.kind).sort(),
        );
      expect(await series()).toEqual([
        ['kept', 'removed'],
        ['kept', 'removed'],
      ]);
      (c.registry.getSingleMetric('plain_gauge') as Gauge).remove({ kind: 'removed' });
      await c.publish(0, false);
      await new Promise((r) => setTimeout(r, 1000));
      expect(await series()).toEqual([['kept'], ['kept']]);
      c.up = false;
      await new Promise((r) => setTimeout(r, 1000));
      expect(await series()).toEqual([[], []]);
      const up = (await both('/api/v1/query', { query: 'up{job="plain"}' })).map(
        (r) => r.data!.result[0]?.value[1],
      );
      expect(up).toEqual(['0', '0']);
      const scraped = (await both('/api/v1/query', { query: 'scrape_samples_scraped{job="plain"}' })).map(
        (r) => r.data!.result[0]?.value[1],
      );
      expect(scraped).toEqual(['0', '0']);
    });
  },
);
