import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { twinOnlyKeys } from './case-context.ts';
import { CONFORMANCE_CASES } from './cases/index.ts';
import { renderCatalog, withCatalog } from './catalog.ts';
import { AREAS } from './conformance-case.ts';

const DOC = path.resolve(import.meta.dirname, '../../docs/conformance.md');

describe('the conformance cases', () => {
  it('are at least 60, each with a title of its own', () => {
    expect(CONFORMANCE_CASES.length).toBeGreaterThanOrEqual(60);
    const titles = CONFORMANCE_CASES.map((c) => c.title);
    expect(new Set(titles).size).toBe(titles.length);
  });

  it('each cite a page of the Kubernetes documentation or API reference, or of Argo Rollouts', () => {
    for (const c of CONFORMANCE_CASES)
      expect(c.docs, c.title).toMatch(
        /^https:\/\/(kubernetes\.io\/docs\/|argo-rollouts\.readthedocs\.io\/en\/stable\/)\S+$/,
      );
  });

  it('cover every area, each Argo Rollouts case citing Argo Rollouts and every other case Kubernetes', () => {
    for (const area of AREAS)
      expect(
        CONFORMANCE_CASES.some((c) => c.area === area),
        area,
      ).toBe(true);
    for (const c of CONFORMANCE_CASES)
      expect(c.docs.includes('argo-rollouts'), c.title).toBe(c.area === 'Argo Rollouts canary');
  });

  it('are listed in docs/conformance.md as the cases describe them (npm run conformance:catalog rewrites the list)', () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(withCatalog(doc, renderCatalog(CONFORMANCE_CASES)), 'run `npm run conformance:catalog`').toBe(doc);
  });
});

describe('twin.dev keys in what a case applies', () => {
  it('are found in labels and annotations at any depth (a pod template too), and only there', () => {
    expect(
      twinOnlyKeys({
        metadata: { name: 'x', labels: { app: 'x' } },
        spec: { template: { metadata: { annotations: { 'twin.dev/run-seconds': '5' } } } },
      }),
    ).toEqual(['spec.template.metadata.annotations[twin.dev/run-seconds]']);
    expect(twinOnlyKeys({ metadata: { name: 'twin.dev', labels: { 'example.com/twin.dev': 'y' } } })).toEqual(
      [],
    );
  });
});
