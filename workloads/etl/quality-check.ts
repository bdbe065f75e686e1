import type { Reading, Rejection } from './records.ts';

/** Plausible ranges of the sensors; a value outside is a broken sensor, not weather. */
const RANGES = {
  temperatureC: [-40, 85],
  humidityPct: [0, 100],
  vibrationMmS: [0, 50],
} as const;

export function qualityCheck(readings: Reading[]): { accepted: Reading[]; rejected: Rejection[] } {
  const accepted: Reading[] = [];
  const rejected: Rejection[] = [];
  for (const record of readings) {
    const reasons: string[] = [];
    if (!record.deviceId) reasons.push('deviceId missing');
    if (!record.timestamp) reasons.push('timestamp missing');
    for (const [field, [min, max]] of Object.entries(RANGES)) {
      const value = record[field as keyof typeof RANGES];
      if (value === null) reasons.push(`${field} missing`);
      else if (value < min || value > max) reasons.push(`${field} ${value} outside ${min}..${max}`);
    }
    if (reasons.length === 0) accepted.push(record);
    else rejected.push({ record, reasons });
  }
  return { accepted, rejected };
}
