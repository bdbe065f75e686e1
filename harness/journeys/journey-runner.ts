import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type { Environment } from '../../env/environment.ts';
import type { JourneyOutcome } from '../chaos/probes.ts';
import { launchChromium } from './browser.ts';
import type { Journey } from './journey.ts';
import { journeyOf } from './journeys.ts';

export type { JourneyOutcome };

/**
 * Runs journeys in one headless Chromium (launched on first use): each in a fresh browser context with
 * a Playwright trace recording, timed (time to interactive: the Navigation Timing `domInteractive` of
 * the first page), with the page's console errors and uncaught exceptions collected. A failed journey
 * keeps a full-page screenshot and its trace under <dir>/journeys/; a passing one keeps nothing.
 */
export class JourneyRunner {
  private browser: Promise<Browser> | undefined;
  private count = 0;

  constructor(
    /** The report directory; attachments go to its journeys/ folder and are named relative to it. */
    private readonly dir: string,
    private readonly executablePath?: string,
  ) {}

  async run(journey: Journey, baseUrl: string, timeoutMs: number): Promise<JourneyOutcome> {
    this.browser ??= launchChromium(this.executablePath);
    const browser = await this.browser;
    const n = ++this.count;
    const context = await browser.newContext();
    await context.tracing.start({ screenshots: true, snapshots: true, title: `${journey.name} #${n}` });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
    const t0 = performance.now();
    let error: string | undefined;
    try {
      await journey.run(page, baseUrl, timeoutMs);
    } catch (err) {
      error = (err as Error).message.split('\n')[0];
    }
    const durationMs = performance.now() - t0;
    const timeToInteractiveMs = await page
      .evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
        return nav && nav.domInteractive > 0 ? nav.domInteractive : null;
      })
      .catch(() => null);
    const attachments: string[] = [];
    if (error) {
      const folder = path.join(this.dir, 'journeys');
      await mkdir(folder, { recursive: true });
      const base = `${journey.name}-${n}`;
      await page
        .screenshot({ path: path.join(folder, `${base}.png`), fullPage: true, timeout: 5000 })
        .then(() => attachments.push(`journeys/${base}.png`))
        .catch(() => {});
      await context.tracing
        .stop({ path: path.join(folder, `${base}.trace.zip`) })
        .then(() => attachments.push(`journeys/${base}.trace.zip`))
        .catch(() => {});
    } else await context.tracing.stop().catch(() => {});
    await context.close().catch(() => {});
    return {
      ok: error === undefined,
      timeToInteractiveMs: timeToInteractiveMs === null ? null : Math.round(timeToInteractiveMs),
      durationMs: Math.round(durationMs),
      consoleErrors,
      ...(error ? { error } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
    };
  }

  /** A journey probe for an environment: the system's journey by name, from its Ingress. */
  probeFor(env: Environment, system: string): (name: string, timeoutMs: number) => Promise<JourneyOutcome> {
    return async (name, timeoutMs) => {
      const journey = journeyOf(system, name);
      return this.run(journey, await env.net.ingressUrl(journey.ingress), timeoutMs);
    };
  }

  async close(): Promise<void> {
    const b = this.browser;
    this.browser = undefined;
    if (b) await (await b).close().catch(() => {});
  }
}
