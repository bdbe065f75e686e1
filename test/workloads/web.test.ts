import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit, type SpawnedWorkload, spawnWorkload } from './spawn-workload.ts';

describe('web', () => {
  const started: SpawnedWorkload[] = [];
  let web: SpawnedWorkload;
  beforeAll(async () => {
    const inference = await spawnWorkload('workloads/inference/server.ts');
    started.push(inference);
    const api = await spawnWorkload('workloads/api/server.ts', {
      INFERENCE_URL: inference.url,
      BUILD_VERSION: '1.0.0',
      POD_NAME: 'api-0',
    });
    started.push(api);
    web = await spawnWorkload('workloads/web/server.ts', { API_URL: api.url, BUILD_VERSION: '1.0.0' });
    started.push(web);
    await Promise.all(started.map((s) => s.waitReady()));
  });
  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
  });

  it('renders the api version and a server-side prediction, with a client script for /api/v1/predict', async () => {
    const res = await fetch(`${web.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('api 1.0.0 (pod api-0)');
    expect(html).toContain('id="prediction"');
    expect(html).toContain('2024.06.1');
    expect(html).toContain("fetch('/api/v1/predict?'");
    expect((await fetch(`${web.url}/readyz`)).status).toBe(200);
  });

  it('still renders, saying so, when the api is down', async () => {
    const lonely = await spawnWorkload('workloads/web/server.ts', { API_URL: 'http://127.0.0.1:9' });
    try {
      const res = await fetch(`${lonely.url}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('api unavailable');
    } finally {
      await lonely.stop();
    }
  });

  it('refuses to listen on every interface when POD_IP is unset (exit 1, saying what to set)', async () => {
    const r = await runToExit('workloads/web/server.ts', { PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('web: POD_IP is not set: set it from the downward API');
    expect(r.stdout).not.toContain('"msg":"listening"');
  });
});
