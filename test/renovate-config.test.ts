import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const config = JSON.parse(readFileSync(path.join(root, 'renovate.json'), 'utf8')) as {
  customManagers: { managerFilePatterns: string[]; matchStrings: string[]; description: string }[];
};

/** Renovate's managerFilePatterns: "/regex/" strings, matched against repository paths. */
function filesOf(patterns: string[], files: string[]): string[] {
  return files.filter((f) => patterns.some((p) => new RegExp(p.slice(1, -1)).test(f)));
}

describe('renovate.json custom managers', async () => {
  const files = (await execa('git', ['ls-files'], { cwd: root })).stdout.split('\n');

  it.each(config.customManagers.map((m) => [m.description, m] as const))(
    '%s still find their pins',
    (_, m) => {
      const matched = filesOf(m.managerFilePatterns, files);
      expect(matched.length, `no file matches ${m.managerFilePatterns.join(', ')}`).toBeGreaterThan(0);
      for (const s of m.matchStrings) {
        const re = new RegExp(s, 'gm');
        const found = matched.flatMap((f) => [...readFileSync(path.join(root, f), 'utf8').matchAll(re)]);
        expect(found.length, `"${s}" matches nothing in ${matched.join(', ')}`).toBeGreaterThan(0);
        for (const f of found) expect(f.groups?.['currentValue']).toMatch(/^v?\d/);
      }
    },
  );
});
