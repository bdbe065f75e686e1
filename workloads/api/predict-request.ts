import { BadRequestError } from '../lib/http-json.ts';

// A single sensor reading is scored as temperature with nominal humidity and vibration.
const NOMINAL_HUMIDITY_PCT = 50;
const NOMINAL_VIBRATION_MM_S = 2;

export interface PredictRequest {
  sensor?: string;
  features: number[];
}

/** GET /api/v1/predict?sensor=<id>&value=<n> */
export function predictRequestFromQuery(params: URLSearchParams): PredictRequest {
  const sensor = params.get('sensor');
  const raw = params.get('value');
  const value = raw === null || raw.trim() === '' ? Number.NaN : Number(raw);
  if (!sensor) throw new BadRequestError('query parameter sensor is required');
  if (!Number.isFinite(value)) throw new BadRequestError('query parameter value must be a number');
  return { sensor, features: [value, NOMINAL_HUMIDITY_PCT, NOMINAL_VIBRATION_MM_S] };
}

/** POST /api/v1/predict {features:[...]} */
export function predictRequestFromBody(body: unknown): PredictRequest {
  const features = (body as { features?: unknown } | null)?.features;
  if (!Array.isArray(features) || features.length === 0) {
    throw new BadRequestError('features must be a non-empty array of numbers');
  }
  if (!features.every((f) => typeof f === 'number' && Number.isFinite(f))) {
    throw new BadRequestError('features must be finite numbers');
  }
  const sensor = (body as { sensor?: unknown }).sensor;
  return typeof sensor === 'string' ? { sensor, features } : { features };
}
