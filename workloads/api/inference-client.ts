import { requestJson } from '../lib/http-client.ts';

export interface InferenceScore {
  score: number;
  label: string;
  model_version: string;
}

/** The inference service answered, but not with a score: `status` is what the api passes on. */
export class InferenceError extends Error {
  override name = 'InferenceError';
  constructor(
    readonly status: 400 | 404 | 502,
    message: string,
  ) {
    super(message);
  }
}

export async function scoreFeatures(
  baseUrl: string,
  features: number[],
  timeoutMs: number,
): Promise<InferenceScore> {
  let res: Awaited<ReturnType<typeof requestJson>>;
  try {
    res = await requestJson(`${baseUrl}/v1/score`, { method: 'POST', body: { features }, timeoutMs });
  } catch (e) {
    throw new InferenceError(502, `inference unreachable: ${(e as Error).message}`);
  }
  const body = res.body as Partial<InferenceScore> & { error?: string };
  if (res.status === 400) throw new InferenceError(400, body?.error ?? 'inference rejected the features');
  if (res.status !== 200 || typeof body?.score !== 'number') {
    throw new InferenceError(502, `inference answered ${res.status}${body?.error ? `: ${body.error}` : ''}`);
  }
  return { score: body.score, label: String(body.label), model_version: String(body.model_version) };
}

/** Scores a device from its stored features (the inference service reads the feature store). */
export async function scoreDevice(
  baseUrl: string,
  deviceId: string,
  timeoutMs: number,
): Promise<InferenceScore & { features_updated_at?: string }> {
  let res: Awaited<ReturnType<typeof requestJson>>;
  try {
    res = await requestJson(`${baseUrl}/v1/score`, {
      method: 'POST',
      body: { device_id: deviceId },
      timeoutMs,
    });
  } catch (e) {
    throw new InferenceError(502, `inference unreachable: ${(e as Error).message}`);
  }
  const body = res.body as Partial<InferenceScore> & { error?: string; features_updated_at?: string };
  if (res.status === 404) throw new InferenceError(404, body?.error ?? `no features for device ${deviceId}`);
  if (res.status !== 200 || typeof body?.score !== 'number') {
    throw new InferenceError(502, `inference answered ${res.status}${body?.error ? `: ${body.error}` : ''}`);
  }
  return {
    score: body.score,
    label: String(body.label),
    model_version: String(body.model_version),
    ...(body.features_updated_at ? { features_updated_at: body.features_updated_at } : {}),
  };
}
