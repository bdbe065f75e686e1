import { fileURLToPath } from 'node:url';
import { BadRequestError, readJsonBody, sendJson } from '../lib/http-json.ts';
import { runMain, startService } from '../lib/http-service.ts';
import { loadModel, type Model, score } from './model.ts';

const DEFAULT_MODEL_PATH = fileURLToPath(new URL('./model.json', import.meta.url));

function parseFeatures(body: unknown, model: Model): number[] {
  const features = (body as { features?: unknown } | null)?.features;
  if (!Array.isArray(features) || !features.every((f) => typeof f === 'number' && Number.isFinite(f))) {
    throw new BadRequestError('features must be an array of finite numbers');
  }
  if (features.length !== model.features.length) {
    throw new BadRequestError(
      `expected ${model.features.length} features (${model.features.join(', ')}), got ${features.length}`,
    );
  }
  return features as number[];
}

runMain('inference', async () => {
  const modelPath = process.env['MODEL_PATH'] || DEFAULT_MODEL_PATH;
  let model: Model | undefined;
  await startService({
    name: 'inference',
    warmUp: async () => {
      model = await loadModel(modelPath);
    },
    handler: async (req, res, url) => {
      if (url.pathname === '/v1/model' && req.method === 'GET') {
        if (!model) return sendJson(res, 503, { error: 'model not loaded' });
        return sendJson(res, 200, { name: model.name, version: model.version, features: model.features });
      }
      if (url.pathname === '/v1/score') {
        if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' }, { allow: 'POST' });
        if (!model) return sendJson(res, 503, { error: 'model not loaded' });
        const features = parseFeatures(await readJsonBody(req), model);
        return sendJson(res, 200, score(model, features));
      }
      sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
    },
  });
});
