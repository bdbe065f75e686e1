import type { Journey } from './journey.ts';

/**
 * The AI platform's web app (workloads/web): open it, ask for a prediction with the form, see the
 * result. The page renders server-side (the web pod calls the api), then the form calls the api
 * through the Ingress from the browser.
 */
export const predictJourney: Journey = {
  name: 'predict',
  description: 'open the web app, submit a prediction, see the result',
  ingress: { namespace: 'production', name: 'ai-platform' },
  async run(page, baseUrl, timeoutMs) {
    const res = await page.goto(new URL('/', baseUrl).href, {
      waitUntil: 'domcontentloaded',
      timeout: timeoutMs,
    });
    if (!res || res.status() >= 400)
      throw new Error(
        `the web app answered ${res?.status() ?? 'nothing'}: ${(await page.textContent('body'))?.slice(0, 200) ?? ''}`,
      );
    await page.locator('#web-version').waitFor({ timeout: timeoutMs });
    const apiError = await page
      .locator('#api-error')
      .textContent({ timeout: 100 })
      .catch(() => null);
    await page.fill('input[name=sensor]', 'journey-1');
    await page.fill('input[name=value]', '21.5');
    await page.click('#predict-form button[type=submit]');
    const out = page.locator('#client-prediction');
    await page.waitForFunction(
      () => {
        const s = document.getElementById('client-prediction')?.dataset['state'];
        return s === 'ok' || s === 'error';
      },
      undefined,
      { timeout: timeoutMs },
    );
    const state = await out.getAttribute('data-state');
    const text = (await out.textContent()) ?? '';
    if (state !== 'ok')
      throw new Error(
        `the prediction failed: ${text.slice(0, 200)}${apiError ? ` (page: ${apiError})` : ''}`,
      );
    if (!/"label"/.test(text))
      throw new Error(`the prediction answered without a label: ${text.slice(0, 200)}`);
  },
};

export const aiPlatformJourneys: Journey[] = [predictJourney];
