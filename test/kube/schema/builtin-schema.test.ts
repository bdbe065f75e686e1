import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { builtinStructuralSchema } from '../../../kube/schema/builtin-schema.ts';

const root = path.resolve(import.meta.dirname, '../../..');

describe('the built-in schemas', () => {
  it('builtin-schema-extras.json is what the generator probes from the installed kubernetes-models', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'twin-schema-extras-'));
    try {
      await execa('npx', ['tsx', 'scripts/generate-kube-schema-extras.ts', dir], { cwd: root });
      expect(
        readFileSync(path.join(dir, 'builtin-schema-extras.json'), 'utf8'),
        'kube/schema/builtin-schema-extras.json is stale',
      ).toBe(readFileSync(path.join(root, 'kube/schema/builtin-schema-extras.json'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('embeds a built-in type in a CRD as controller-gen does: quantities and int-or-string, metadata of templates', () => {
    const s = builtinStructuralSchema('V1PodTemplateSpec') as any;
    expect(s.properties.metadata.properties).toEqual({
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      annotations: { type: 'object', additionalProperties: { type: 'string' } },
    });
    const container = s.properties.spec.properties.containers.items;
    expect(container.required).toEqual(['name']);
    expect(container.properties.resources.properties.limits.additionalProperties).toEqual({
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
    });
    expect(container.properties.ports.items.properties.containerPort).toEqual({
      type: 'integer',
      format: 'int32',
    });
  });
});
