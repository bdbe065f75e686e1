import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, score } from '../../workloads/inference/model.ts';
import { REPO_ROOT, type SpawnedWorkload, spawnWorkload } from './spawn-workload.ts';

describe('inference model', () => {
  it('scores the shipped logistic regression', async () => {
    const model = await loadModel(join(REPO_ROOT, 'workloads/inference/model.json'));
    expect(model.features).toHaveLength(3);
    const calm = score(model, [20, 50, 1]);
    const shaking = score(model, [30, 50, 7]);
    expect(calm.label).toBe('normal');
    expect(shaking.label).toBe('anomaly');
    expect(shaking.score).toBeGreaterThan(calm.score);
    expect(calm.model_version).toBe(model.version);
  });
});

describe('inference service', () => {
  let svc: SpawnedWorkload;
  beforeAll(async () => {
    svc = await spawnWorkload('workloads/inference/server.ts');
    await svc.waitReady();
  });
  afterAll(async () => {
    expect(await svc.stop()).toBe(0);
  });

  it('answers the probes', async () => {
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
  });

  it('scores features', async () => {
    const res = await fetch(`${svc.url}/v1/score`, {
      method: 'POST',
      body: JSON.stringify({ features: [25, 40, 3] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      score: expect.any(Number),
      label: expect.any(String),
      model_version: '2024.06.1',
    });
  });

  it('answers 400 on a wrong feature count or a bad body', async () => {
    const wrong = await fetch(`${svc.url}/v1/score`, {
      method: 'POST',
      body: JSON.stringify({ features: [1, 2] }),
    });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toMatch(/expected 3 features/);
    const bad = await fetch(`${svc.url}/v1/score`, { method: 'POST', body: 'not json' });
    expect(bad.status).toBe(400);
  });

  it('logs requests as JSON lines', () => {
    const lines = svc
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"request"'));
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(lines[0]!)).toMatchObject({ service: 'inference', method: 'GET', status: 200 });
  });
});

describe('inference MODEL_PATH', () => {
  it('loads an override and stays unready when the model is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inference-'));
    const path = join(dir, 'model.json');
    await writeFile(path, JSON.stringify({ version: 'custom-1', features: ['x'], weights: [1], bias: 0 }));
    const custom = await spawnWorkload('workloads/inference/server.ts', { MODEL_PATH: path });
    await custom.waitReady();
    const res = await fetch(`${custom.url}/v1/score`, {
      method: 'POST',
      body: JSON.stringify({ features: [0] }),
    });
    expect(await res.json()).toMatchObject({ score: 0.5, model_version: 'custom-1' });
    await custom.stop();

    const missing = await spawnWorkload('workloads/inference/server.ts', {
      MODEL_PATH: join(dir, 'nope.json'),
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${missing.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${missing.url}/readyz`)).status).toBe(503);
    await missing.stop();
  });
});
