import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Environment } from '../../../env/environment.ts';
import { predictJourney } from '../../../harness/journeys/ai-platform.ts';
import { findChromium, hasChromium } from '../../../harness/journeys/browser.ts';
import { JourneyRunner } from '../../../harness/journeys/journey-runner.ts';
import { writeReport } from '../../../harness/report/report-writer.ts';
import { renderPage } from '../../../workloads/web/page.ts';
import { sampleRun } from '../report/sample-run.ts';

const servers: Server[] = [];
const runners: JourneyRunner[] = [];
afterAll(async () => {
  for (const r of runners) await r.close();
  for (const s of servers) s.close();
});

/** The web app's own page (workloads/web/page.ts), and an api whose predictions answer `status`. */
async function webApp(state: { status: number }): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === '/') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        renderPage({
          pod: 'web-1',
          version: '1.0.0',
          api: { version: '1.0.0', pod: 'api-1' },
          prediction: { body: { ok: 1 } },
        }),
      );
      return;
    }
    res.statusCode = state.status;
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify(
        state.status === 200
          ? { prediction: { score: 0.4, label: 'normal' } }
          : { error: 'upstream unavailable' },
      ),
    );
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('finding Chromium (harness/journeys/browser.ts)', () => {
  it('says what to do when none is found', () => {
    expect(() => findChromium(undefined, { PATH: '/nonexistent' })).toThrow(
      "no Chromium found for the browser journeys (looked for chromium, chromium-browser, google-chrome, google-chrome-stable on the PATH): install Debian's chromium (apt-get install -y chromium) or set TWIN_CHROMIUM",
    );
    expect(() => findChromium(undefined, { TWIN_CHROMIUM: '/no/chrome', PATH: '' })).toThrow(
      'TWIN_CHROMIUM=/no/chrome: no executable there',
    );
    expect(() => findChromium('/no/chrome')).toThrow('executablePath=/no/chrome: no executable there');
  });
});

describe.skipIf(!hasChromium())('browser journeys in Chromium (needs chromium or TWIN_CHROMIUM)', () => {
  it('the AI platform’s predict journey: the page opens, the form answers, the result is seen', async () => {
    const state = { status: 200 };
    const url = await webApp(state);
    const dir = mkdtempSync(path.join(tmpdir(), 'journeys-'));
    const runner = new JourneyRunner(dir);
    runners.push(runner);
    const ok = await runner.run(predictJourney, url, 15_000);
    expect(ok).toMatchObject({ ok: true, consoleErrors: [] });
    expect(ok.timeToInteractiveMs).toBeGreaterThan(0);
    expect(ok.attachments).toBeUndefined();

    state.status = 502;
    const failed = await runner.run(predictJourney, url, 15_000);
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatch(/^the prediction failed: 502 \{/);
    // The browser logged the failed request: what a person with the console open would see.
    expect(failed.consoleErrors.join('\n')).toMatch(/502/);
    expect(failed.attachments).toEqual(['journeys/predict-2.png', 'journeys/predict-2.trace.zip']);
    for (const f of failed.attachments!) expect(existsSync(path.join(dir, f))).toBe(true);
    expect(readFileSync(path.join(dir, 'journeys/predict-2.png')).subarray(1, 4).toString()).toBe('PNG');

    // A failed journey's screenshot is in the report, and its trace is linked.
    const record = {
      ...sampleRun(),
      attachments: [
        {
          title: 'during: predict: the prediction failed',
          t: 60_000,
          screenshot: failed.attachments![0]!,
          trace: failed.attachments![1]!,
        },
      ],
    };
    const { reportHtml } = await writeReport(dir, record);
    const html = readFileSync(reportHtml, 'utf8');
    expect(html).toContain('What users saw: failed browser journeys');
    expect(html).toContain(
      '<img class="shot" alt="screenshot: during: predict: the prediction failed" src="data:image/png;base64,',
    );
    expect(html).toContain('href="journeys/predict-2.trace.zip"');
  }, 60_000);
});

describe.skipIf(!hasChromium())('a journey loop over a window (harness/journeys/journey-loop.ts)', () => {
  it('counts the journeys that overlapped the window, waiting for the one in progress', async () => {
    const { JourneyLoop } = await import('../../../harness/journeys/journey-loop.ts');
    let now = 0;
    // Each journey takes 400 ms of the clock below; the loop waits 50 ms between them.
    const runner = {
      run: async () => {
        await new Promise((r) => setTimeout(r, 400));
        return { ok: true, timeToInteractiveMs: 100, durationMs: 400, consoleErrors: [] };
      },
    } as unknown as JourneyRunner;
    const clock = { now: () => now + performance.now() };
    const env = { net: { ingressUrl: async () => 'http://127.0.0.1:9' }, clock } as unknown as Environment;
    const loop = new JourneyLoop(runner, env, 'ai-platform', 'predict', { everyMs: 50 });
    expect(loop.skipped).toBeUndefined();
    await new Promise((r) => setTimeout(r, 100));
    // A window of 10 ms inside the first journey: none had ended when it closed; during() waits for it.
    const from = clock.now();
    const seen = await loop.during(from, from + 10);
    expect(seen.runs).toBe(1);
    expect(seen.ok).toBe(1);
    // A window in the future that no journey started in yet: none.
    now = 1e9;
    expect((await loop.during(clock.now() + 1e6, clock.now() + 2e6, 10)).runs).toBe(0);
    now = 0;
    await loop.stop();
  });
});
