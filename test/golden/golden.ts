import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

/**
 * A golden file (kwok's testdata in/out with an update switch): the generated text must equal the
 * stored one; UPDATE_GOLDEN=1 (or a missing file) writes it instead, to be reviewed in the diff.
 */
export function expectGolden(file: string, actual: string): void {
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  expect(actual, `${file} differs; rerun with UPDATE_GOLDEN=1 if the change is intended`).toBe(
    readFileSync(file, 'utf8'),
  );
}
