import type { RawReading, Reading } from './records.ts';

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Units to SI, time to ISO 8601; missing values stay null for the quality check to count. */
export function transform(raw: RawReading[]): Reading[] {
  return raw.map((r) => {
    const f = numberOrNull(r.temp_f);
    return {
      deviceId: String(r.device_id ?? ''),
      timestamp: Number.isFinite(r.ts) ? new Date(r.ts).toISOString() : '',
      temperatureC: f === null ? null : Math.round((((f - 32) * 5) / 9) * 100) / 100,
      humidityPct: numberOrNull(r.humidity),
      vibrationMmS: numberOrNull(r.vibration),
    };
  });
}
