import { describe, expect, it } from 'vitest';
import { jsonMergePatch } from '../../../twin/apiserver/patch/json-merge-patch.ts';
import { jsonPatch } from '../../../twin/apiserver/patch/json-patch.ts';
import { PatchError, strategicMergePatch } from '../../../twin/apiserver/patch/strategic-merge-patch.ts';
import { builtinSchema } from '../../../twin/apiserver/schema/schema-node.ts';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web', tier: 'front' }, finalizers: ['a', 'b'] },
  spec: {
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      spec: {
        containers: [
          {
            name: 'web',
            image: 'web:1',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
            ports: [{ containerPort: 80, protocol: 'TCP' }],
            args: ['--a', '--b'],
          },
          { name: 'sidecar', image: 'side:1' },
        ],
        tolerations: [{ key: 'x', operator: 'Exists' }],
      },
    },
  },
});
const schema = builtinSchema('V1Deployment')!;
const smp = (patch: unknown) => strategicMergePatch(deployment(), patch, schema) as any;

describe('strategic merge patch', () => {
  it('merges containers by name and env by name, replaces args and tolerations', () => {
    const out = smp({
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'web',
                image: 'web:2',
                env: [
                  { name: 'B', value: 'two' },
                  { name: 'C', value: '3' },
                ],
                args: ['--c'],
              },
            ],
            tolerations: [{ key: 'y', operator: 'Exists' }],
          },
        },
      },
    });
    const [web, side] = out.spec.template.spec.containers;
    expect(web.image).toBe('web:2');
    expect(web.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
    ]);
    expect(web.args).toEqual(['--c']);
    expect(web.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
    expect(side).toEqual({ name: 'sidecar', image: 'side:1' });
    expect(out.spec.template.spec.tolerations).toEqual([{ key: 'y', operator: 'Exists' }]);
  });

  it('honours $patch delete and replace, null, $retainKeys, $setElementOrder and $deleteFromPrimitiveList', () => {
    const out = smp({
      metadata: { labels: { tier: null }, '$deleteFromPrimitiveList/finalizers': ['a'] },
      spec: {
        strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null },
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }],
            containers: [{ name: 'web', env: [{ name: 'A', $patch: 'delete' }] }],
          },
        },
      },
    });
    expect(out.metadata.labels).toEqual({ app: 'web' });
    expect(out.metadata.finalizers).toEqual(['b']);
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    expect(out.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['sidecar', 'web']);
    expect(out.spec.template.spec.containers[1].env).toEqual([{ name: 'B', value: '2' }]);
    const replaced = smp({
      spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } },
    });
    expect(replaced.spec.template.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
    const gone = smp({ spec: { strategy: { $patch: 'delete' } } });
    expect(gone.spec.strategy).toBeUndefined();
    const whole = smp({ metadata: { labels: { $patch: 'replace', x: 'y' } } });
    expect(whole.metadata.labels).toEqual({ x: 'y' });
  });

  it('merges finalizers as a set and needs the merge key in list elements', () => {
    expect(smp({ metadata: { finalizers: ['b', 'c'] } }).metadata.finalizers).toEqual(['a', 'b', 'c']);
    expect(() => smp({ spec: { template: { spec: { containers: [{ image: 'x' }] } } } })).toThrow(PatchError);
    expect(() => smp({ spec: { template: { spec: { containers: [{ image: 'x' }] } } } })).toThrow(
      /does not contain declared merge key: name/,
    );
  });
});

describe('JSON merge patch and JSON patch', () => {
  it('merges objects, deletes with null and replaces lists (RFC 7386)', () => {
    expect(jsonMergePatch({ a: 1, b: { c: 2, d: [1, 2] } }, { a: null, b: { d: [3] }, e: 'x' })).toEqual({
      b: { c: 2, d: [3] },
      e: 'x',
    });
  });

  it('applies operations and fails the whole patch on a failed test or a missing path (RFC 6902)', () => {
    const doc = { spec: { replicas: 1 } };
    expect(jsonPatch(doc, [{ op: 'replace', path: '/spec/replicas', value: 3 }])).toEqual({
      spec: { replicas: 3 },
    });
    expect(doc.spec.replicas).toBe(1);
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/spec/replicas', value: 2 }])).toThrow(
      'testing value /spec/replicas failed: test failed',
    );
    expect(() => jsonPatch(doc, [{ op: 'replace', path: '/spec/nope/x', value: 2 }])).toThrow(/missing/);
  });
});
