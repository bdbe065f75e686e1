import { readJsonBody, sendJson } from '../lib/http-json.ts';
import { runMain, startService } from '../lib/http-service.ts';
import { apiConfigFrom } from './config.ts';
import { faultInjector } from './fault-injector.ts';
import { InferenceError, scoreDevice, scoreFeatures } from './inference-client.ts';
import { type PredictRequest, predictRequestFromBody, predictRequestFromQuery } from './predict-request.ts';

runMain('api', async () => {
  const config = apiConfigFrom(process.env);
  const faults = faultInjector(config.faultErrorRate, config.faultLatencyMs);

  async function predict(request: PredictRequest) {
    const result = await scoreFeatures(config.inferenceUrl, request.features, config.inferenceTimeoutMs);
    return {
      ...(request.sensor !== undefined ? { sensor: request.sensor } : {}),
      prediction: { score: result.score, label: result.label },
      model: result.model_version,
      version: config.version,
    };
  }

  await startService({
    name: 'api',
    responseHeaders: { 'x-app-version': config.version },
    routes: ['/api/v1/version', '/api/v1/devices/:device/prediction', '/api/v1/predict'],
    warmUp: () => new Promise((r) => setTimeout(r, config.readyDelayMs)),
    handler: async (req, res, url) => {
      if (!url.pathname.startsWith('/api/')) {
        return sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
      }
      if (await faults.apply()) return sendJson(res, 500, { error: 'injected fault' });

      if (url.pathname === '/api/v1/version' && req.method === 'GET') {
        return sendJson(res, 200, { version: config.version, pod: config.podName });
      }
      const device = url.pathname.match(/^\/api\/v1\/devices\/([^/]+)\/prediction$/);
      if (device && req.method === 'GET') {
        try {
          const result = await scoreDevice(
            config.inferenceUrl,
            decodeURIComponent(device[1]!),
            config.inferenceTimeoutMs,
          );
          return sendJson(res, 200, {
            device: decodeURIComponent(device[1]!),
            prediction: { score: result.score, label: result.label },
            model: result.model_version,
            featuresUpdatedAt: result.features_updated_at,
            version: config.version,
          });
        } catch (e) {
          if (e instanceof InferenceError) return sendJson(res, e.status, { error: e.message });
          throw e;
        }
      }
      if (url.pathname === '/api/v1/predict' && (req.method === 'GET' || req.method === 'POST')) {
        const request =
          req.method === 'GET'
            ? predictRequestFromQuery(url.searchParams)
            : predictRequestFromBody(await readJsonBody(req));
        try {
          return sendJson(res, 200, await predict(request));
        } catch (e) {
          if (e instanceof InferenceError) return sendJson(res, e.status, { error: e.message });
          throw e;
        }
      }
      sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
    },
  });
});
