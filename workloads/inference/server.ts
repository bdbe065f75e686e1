import { fileURLToPath } from 'node:url';
import { BadRequestError, readJsonBody, sendJson } from '../lib/http-json.ts';
import { runMain, startService } from '../lib/http-service.ts';
import { FeatureStore } from './feature-store.ts';
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
  const featureStore = process.env['FEATURE_TABLE']
    ? new FeatureStore(process.env['FEATURE_TABLE'], process.env)
    : undefined;
  let model: Model | undefined;
  await startService({
    name: 'inference',
    routes: ['/v1/model', '/v1/score'],
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
        const body = await readJsonBody(req);
        const deviceId = (body as { device_id?: unknown } | null)?.device_id;
        if (typeof deviceId === 'string') {
          // Scoring a device: its features come from the feature store the ETL job fills.
          if (!featureStore)
            return sendJson(res, 503, { error: 'no feature store configured (FEATURE_TABLE)' });
          const found = await featureStore.features(deviceId, model.features);
          if (!found) return sendJson(res, 404, { error: `no features for device ${deviceId}` });
          if ('missing' in found)
            return sendJson(res, 422, {
              error: `device ${deviceId} lacks features ${found.missing.join(', ')}`,
            });
          return sendJson(res, 200, {
            ...score(model, found.values),
            device_id: deviceId,
            features: found.values,
            features_updated_at: found.updatedAt,
          });
        }
        const features = parseFeatures(body, model);
        return sendJson(res, 200, score(model, features));
      }
      sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
    },
  });
});
