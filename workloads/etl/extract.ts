import { readFile } from 'node:fs/promises';
import type { RawReading } from './records.ts';

/** mulberry32: a seeded generator, so that a batch is reproducible from its SEED. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A batch of IoT-like readings; about `invalidRatio` of them miss a field or carry an impossible value. */
export function generateReadings(
  count: number,
  options: { seed: number; invalidRatio: number; now?: number },
) {
  const random = seededRandom(options.seed);
  const now = options.now ?? Date.now();
  const readings: RawReading[] = [];
  for (let i = 0; i < count; i++) {
    const reading: RawReading = {
      device_id: `sensor-${String(1 + Math.floor(random() * 50)).padStart(3, '0')}`,
      ts: now - Math.floor(random() * 3_600_000),
      temp_f: Math.round((59 + random() * 36) * 10) / 10,
      humidity: Math.round((30 + random() * 50) * 10) / 10,
      vibration: Math.round(random() * 80) / 10,
    };
    if (random() < options.invalidRatio) {
      const defect = Math.floor(random() * 3);
      if (defect === 0) reading.temp_f = null;
      else if (defect === 1) reading.humidity = 140;
      else reading.vibration = -1;
    }
    readings.push(reading);
  }
  return readings;
}

/** Readings from a JSON Lines file (one RawReading per line). */
export async function readReadings(path: string): Promise<RawReading[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as RawReading;
      } catch {
        throw new Error(`${path}:${i + 1}: not a JSON object`);
      }
    });
}
