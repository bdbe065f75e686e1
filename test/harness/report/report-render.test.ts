import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeTrends, trendsHtml } from '../../../harness/chaos/trends.ts';
import { writeGateReport } from '../../../harness/gate/report.ts';
import { judgeGate } from '../../../harness/gate/verdict.ts';
import { hasChromium, launchChromium } from '../../../harness/journeys/browser.ts';
import { runProfile } from '../../../harness/load/engine.ts';
import { writeReport } from '../../../harness/report/report-writer.ts';
import { sampleRun } from './sample-run.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'report-render-'));
// A 1×1 PNG: an attachment's screenshot.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

async function pages(): Promise<Record<string, string>> {
  writeFileSync(path.join(dir, 'shot.png'), PNG);
  const run = {
    ...sampleRun(),
    attachments: [
      {
        title: 'during: predict: the prediction failed',
        t: 30_000,
        screenshot: 'shot.png',
        trace: 'shot.trace.zip',
      },
    ],
  };
  const scenario = (await writeReport(path.join(dir, 'scenario'), { ...run, attachments: [] })).reportHtml;
  const experimentDir = path.join(dir, 'experiment');
  mkdirSync(experimentDir, { recursive: true });
  writeFileSync(path.join(experimentDir, 'shot.png'), PNG);
  const experiment = (await writeReport(experimentDir, run)).reportHtml;
  // The gate's report from a real (short) run of the embedded load engine against a local server.
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const result = await runProfile(
    {
      name: 'smoke',
      target: { kind: 'Ingress', namespace: 'production', name: 'ai-platform' },
      scenario: {
        executor: 'constant-arrival-rate',
        rate: 20,
        duration: '2s',
        preAllocatedVUs: 10,
        maxVUs: 10,
      },
      requests: [{ path: '/' }],
      thresholds: { http_req_failed: ['rate<0.01'] },
    },
    { baseUrl: url },
  );
  server.close();
  mkdirSync(path.join(dir, 'gate'), { recursive: true });
  const gate = await writeGateReport(path.join(dir, 'gate'), {
    system: 'ai-platform',
    env: 'local',
    overlay: 'local',
    startedAt: result.startedAt,
    finishedAt: new Date().toISOString(),
    baselinePath: 'none',
    verdict: judgeGate([result], undefined, 'no baseline'),
    results: [result],
  });
  const trends = path.join(dir, 'trends.html');
  writeFileSync(
    trends,
    trendsHtml(
      computeTrends([
        {
          kind: 'infra-twin/chaos-run',
          version: 1,
          startedAt: '2026-11-01T02:00:00Z',
          finishedAt: '2026-11-01T03:00:00Z',
          environment: 'local',
          entries: [
            {
              name: 'api-latency',
              type: 'experiment',
              passed: true,
              status: 'completed',
              runId: 'r',
              durationSeconds: 30,
              recoverySeconds: 1.5,
              failed: [],
            },
          ],
        },
      ]),
    ),
  );
  return { scenario, experiment, gate: gate.html, trends };
}

describe.skipIf(!hasChromium())(
  'every report page renders in Chromium (needs chromium or TWIN_CHROMIUM)',
  () => {
    let browser: Browser;
    let files: Record<string, string>;
    beforeAll(async () => {
      browser = await launchChromium();
      files = await pages();
    }, 60_000);
    afterAll(async () => browser?.close());

    it.each(['scenario', 'experiment', 'gate', 'trends'])(
      '%s report: plots and tables render, no console errors',
      async (kind) => {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(pathToFileURL(files[kind]!).href, { waitUntil: 'load' });
        const shape = await page.evaluate(() => ({
          svgs: Array.from(document.querySelectorAll('svg')).filter(
            (s) => s.getBoundingClientRect().width > 0,
          ).length,
          drawn: Array.from(
            document.querySelectorAll('svg path, svg polyline, svg rect, svg circle, svg line'),
          ).length,
          rows: document.querySelectorAll('table tbody tr').length,
          images: Array.from(document.images).map((i) => ({ ok: i.complete && i.naturalWidth > 0 })),
          width: document.documentElement.scrollWidth,
        }));
        expect(errors).toEqual([]);
        expect(shape.svgs).toBeGreaterThan(0);
        expect(shape.drawn).toBeGreaterThan(3);
        expect(shape.rows).toBeGreaterThan(0);
        expect(shape.images.every((i) => i.ok)).toBe(true);
        if (kind === 'experiment') expect(shape.images).toHaveLength(1);
        await page.close();
      },
    );
  },
);
