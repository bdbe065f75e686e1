import { describe, expect, it } from 'vitest';
import { isTwinError } from '../../../core/errors.ts';
import {
  ALPHANUMS,
  generateName,
  MAX_NAME_GENERATION_CREATE_ATTEMPTS,
  podsPrefix,
} from '../../../twin/store/name-generator.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';

const pod = (generateName: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: '', namespace: 'default', generateName },
});

describe('generateName as the API server makes names (k8s.io/apiserver/pkg/storage/names)', () => {
  it('appends five characters of the alphabet without vowels or look-alikes', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const name = generateName('web-');
      expect(name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      for (const c of name.slice(4)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    // Every character of the alphabet is drawn, none far from its share (100,000 / 27 ≈ 3,704).
    expect([...counts.keys()].sort().join('')).toBe([...ALPHANUMS].sort().join(''));
    for (const n of counts.values()) expect(n).toBeGreaterThan(3_000);
  });

  it('cuts a base longer than 58 characters before the suffix, so names stay within 63', () => {
    const name = generateName(`${'a'.repeat(70)}-`);
    expect(name).toHaveLength(63);
    expect(name.startsWith('a'.repeat(58))).toBe(true);
    expect(podsPrefix('web-7d9c5')).toBe('web-7d9c5-');
    expect(podsPrefix('x'.repeat(253))).toBe('x'.repeat(253));
  });

  it('creates 100,000 pods from one generateName in the store without a collision reaching the client', () => {
    const store = new ObjectStore();
    const names = new Set<string>();
    for (let i = 0; i < 100_000; i++) names.add(store.create(pod('web-5d8f7b9c4-')).metadata.name);
    expect(names.size).toBe(100_000);
    expect(store.listShared('/Pod')).toHaveLength(100_000);
  });

  it('draws a taken name again, and after 8 attempts answers AlreadyExists as the registry does', () => {
    const drawn = ['a', 'a', 'a', 'b'];
    let calls = 0;
    const store = new ObjectStore(Date.now, { generateName: (base) => `${base}${drawn[calls++ % 4]}` });
    expect(store.create(pod('web-')).metadata.name).toBe('web-a'); // draw 1
    calls = 0;
    expect(store.create(pod('web-')).metadata.name).toBe('web-b'); // draws a, a, a taken; b free
    const always = new ObjectStore(Date.now, { generateName: (base) => `${base}same` });
    always.create(pod('web-'));
    let attempts = 0;
    const counting = new ObjectStore(Date.now, {
      generateName: (base) => {
        attempts++;
        return `${base}same`;
      },
    });
    counting.create(pod('web-'));
    attempts = 0;
    let error: unknown;
    try {
      counting.create(pod('web-'));
    } catch (err) {
      error = err;
    }
    expect(attempts).toBe(MAX_NAME_GENERATION_CREATE_ATTEMPTS);
    expect(isTwinError(error, 'TWIN_ALREADY_EXISTS')).toBe(true);
    expect((error as Error).message).toMatch(
      /Pod default\/web-same already exists, the server was not able to generate a unique name/,
    );
    // A name the client chose is never replaced: its conflict is plain AlreadyExists.
    expect(() =>
      always.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-same', namespace: 'default' } }),
    ).toThrow(/web-same already exists$/);
  });
});
