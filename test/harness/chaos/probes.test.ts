import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Environment } from '../../../env/environment.ts';
import { evaluateProbe } from '../../../harness/chaos/probes.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const hasPrometheus = existsSync(PROMETHEUS);
const env = { name: 'local' } as Environment;
const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
});

function server(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  cleanups.push(() => s.close());
  return new Promise((r) =>
    s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as { port: number }).port}`)),
  );
}

describe('probes (harness/chaos/probes.ts)', () => {
  it('http: the last status, the p95 latency of its requests and the body', async () => {
    let n = 0;
    const url = await server((_req, res) => {
      n++;
      setTimeout(() => res.end('{"ok":true}'), n === 3 ? 150 : 1);
    });
    const v = await evaluateProbe(
      { type: 'http', url, path: '/x', method: 'GET', timeout: 2, count: 3 },
      { env },
    );
    expect(v).toMatchObject({ value: 200, parts: { status: 200, body: '{"ok":true}', errorRate: 0 } });
    expect(v.parts!['latency']).toBeGreaterThanOrEqual(140);
    const down = await evaluateProbe(
      { type: 'http', url: 'http://127.0.0.1:1', path: '/', method: 'GET', timeout: 1, count: 1 },
      { env },
    );
    expect(down).toMatchObject({ value: 0, parts: { errorRate: 1 } });
  });

  it.skipIf(!hasPrometheus)(
    'promql: an instant query through the Prometheus HTTP API (Debian’s prometheus scraping a static target)',
    async () => {
      const target = await server((_req, res) => {
        res.setHeader('content-type', 'text/plain; version=0.0.4');
        res.end('# TYPE chaos_probe_requests_total counter\nchaos_probe_requests_total{code="200"} 42\n');
      });
      const dir = mkdtempSync(path.join(tmpdir(), 'chaos-prom-'));
      writeFileSync(
        path.join(dir, 'prometheus.yml'),
        `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: t\n    static_configs: [{ targets: ['${new URL(target).host}'] }]\n`,
      );
      const port = 19000 + Math.floor(Math.random() * 900);
      const p = spawn(
        PROMETHEUS,
        [
          `--config.file=${dir}/prometheus.yml`,
          `--storage.tsdb.path=${dir}/data`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        {
          stdio: 'ignore',
        },
      );
      cleanups.push(() => p.kill('SIGKILL'));
      const url = `http://127.0.0.1:${port}`;
      let v: Awaited<ReturnType<typeof evaluateProbe>> = { value: null };
      for (let i = 0; i < 60 && v.value !== 42; i++) {
        await new Promise((r) => setTimeout(r, 500));
        v = await evaluateProbe(
          { type: 'promql', url, query: 'sum(chaos_probe_requests_total)', timeout: 2 },
          { env },
        );
      }
      expect(v).toMatchObject({ value: 42, parts: { samples: 1 } });
      const none = await evaluateProbe({ type: 'promql', url, query: 'no_such_series', timeout: 2 }, { env });
      expect(none).toMatchObject({ value: null, parts: { samples: 0 } });
      const bad = await evaluateProbe({ type: 'promql', url, query: 'sum(', timeout: 2 }, { env });
      expect(bad.error).toMatch(/answered 400|parse error/);
    },
    60_000,
  );
});
