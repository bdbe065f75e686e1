import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../workloads/spawn-workload.ts';
import { podTemplateOf, readBase, SYSTEM_DIR } from './manifests.ts';

interface Binding {
  image: string;
  entry?: string;
  dockerfile?: string;
  env?: Record<string, string>;
}

describe('ai-platform twin bindings', () => {
  const bindings = parse(readFileSync(join(SYSTEM_DIR, 'twin-bindings.yaml'), 'utf8')) as {
    apiVersion: string;
    kind: string;
    images: Binding[];
  };

  it('names existing entries and Dockerfiles and passes the image tag as BUILD_VERSION', () => {
    expect([bindings.apiVersion, bindings.kind]).toEqual(['twin.dev/v1alpha1', 'TwinBindings']);
    for (const b of bindings.images) {
      const file = b.entry ?? b.dockerfile!;
      expect(existsSync(join(REPO_ROOT, file)), file).toBe(true);
      expect(b.image, 'a repository without a tag').not.toMatch(/:[^/]+$/);
      // Our reference images carry their tag as BUILD_VERSION; the RDS stand-in's postgres image does not.
      if (b.image.includes('ai-platform/')) expect(b.env?.['BUILD_VERSION']).toBe('{{image.tag}}');
    }
  });

  it('binds every image of ours in the base and its ECR name', () => {
    const ours = readBase()
      .flatMap((o) => podTemplateOf(o)?.spec.containers ?? [])
      .map((c: { image: string }) => c.image.replace(/:[^/:]+$/, ''))
      .filter((repo: string) => repo.startsWith('ghcr.io/ai-platform/'));
    const bound = new Set(bindings.images.map((b) => b.image));
    for (const repo of ours) {
      expect(bound.has(repo), repo).toBe(true);
      const ecr = repo.replace('ghcr.io/', '123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/');
      expect(bound.has(ecr), ecr).toBe(true);
    }
  });
});
