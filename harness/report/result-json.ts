import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunRecord } from './run-record.ts';

export const RESULT_JSON = 'result.json';

/** Writes `<dir>/result.json` and returns its path. */
export async function writeResultJson(dir: string, record: RunRecord): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, RESULT_JSON);
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}
