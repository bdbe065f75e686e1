import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { FieldSet, fieldsOf } from '../../../twin/apiserver/apply/field-set.ts';
import {
  ApplyConflictError,
  serverSideApply,
  trackUpdate,
} from '../../../twin/apiserver/apply/server-side-apply.ts';
import { builtinSchema, crdSchema } from '../../../twin/apiserver/schema/schema-node.ts';

const schema = builtinSchema('V1Deployment')!;
const opts = (manager: string) => ({
  manager,
  apiVersion: 'apps/v1',
  now: '2026-01-01T00:00:00Z',
  schema,
  statusSubresource: true,
  force: false,
});

const config = (extra: Record<string, unknown> = {}, env = [{ name: 'A', value: '1' }]): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'web:1', env, ports: [{ containerPort: 80 }] }] },
      },
      ...extra,
    },
    status: { replicas: 99 },
  }) as KubeObject;

describe('field sets', () => {
  it('lists leaves, map-list items by key, set members, and serializes to fieldsV1', () => {
    const set = fieldsOf(config() as any, schema);
    const v1 = set.toFieldsV1() as any;
    expect(v1['f:metadata']).toEqual({ 'f:labels': { 'f:app': {} } });
    expect(v1['f:spec']['f:replicas']).toEqual({});
    expect(v1['f:spec']['f:selector']).toEqual({});
    const c = v1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}'];
    expect(c['.']).toEqual({});
    expect(c['f:env']['k:{"name":"A"}']).toEqual({ '.': {}, 'f:name': {}, 'f:value': {} });
    expect(Object.keys(c['f:ports'])).toEqual(['k:{"containerPort":80,"protocol":"TCP"}']);
    expect(v1['f:status']).toBeUndefined();
    expect([...FieldSet.fromFieldsV1(v1)].length).toBe(set.size);
  });
});

describe('server-side apply', () => {
  it('creates with the applier owning what it applied, ignoring status', () => {
    const out = serverSideApply(undefined, config(), opts('kubectl'));
    expect(out.status).toBeUndefined();
    expect(out.metadata.managedFields).toHaveLength(1);
    expect(out.metadata.managedFields![0]).toMatchObject({
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'apps/v1',
    });
  });

  it('removes fields the manager stops applying, keeps what others own, and merges map-lists', () => {
    const live = serverSideApply(
      undefined,
      config({}, [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ]),
      opts('kubectl'),
    );
    const other = serverSideApply(
      live,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', labels: { team: 'x' } },
      } as KubeObject,
      opts('other'),
    );
    const next = serverSideApply(
      other,
      { ...config(), metadata: { name: 'web', namespace: 'default' } } as KubeObject,
      opts('kubectl'),
    );
    const c = next.spec.template.spec.containers[0];
    expect(c.env).toEqual([{ name: 'A', value: '1' }]);
    expect(next.metadata.labels).toEqual({ team: 'x' });
    expect(next.metadata.managedFields!.map((m) => m.manager).sort()).toEqual(['kubectl', 'other']);
  });

  it('reports a conflict with the manager that changed a field, and takes it over with force', () => {
    const live = serverSideApply(undefined, config(), opts('kubectl'));
    const scaled = structuredClone(live);
    scaled.spec.replicas = 5;
    scaled.metadata.managedFields = trackUpdate(live, scaled, {
      ...opts('hpa'),
      subresource: undefined,
    } as any);
    expect(scaled.metadata.managedFields!.find((m) => m.manager === 'hpa')?.fieldsV1).toEqual({
      'f:spec': { 'f:replicas': {} },
    });
    try {
      serverSideApply(scaled, config({ replicas: 3 }), opts('kubectl'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApplyConflictError);
      expect((e as Error).message).toBe(
        'Apply failed with 1 conflict: conflict with "hpa" using apps/v1 at 2026-01-01T00:00:00Z: .spec.replicas',
      );
    }
    // The same value is shared ownership, not a conflict.
    expect(() => serverSideApply(scaled, config({ replicas: 5 }), opts('kubectl'))).not.toThrow();
    const forced = serverSideApply(scaled, config({ replicas: 3 }), { ...opts('kubectl'), force: true });
    expect(forced.spec.replicas).toBe(3);
    expect(forced.metadata.managedFields!.some((m) => m.manager === 'hpa')).toBe(false);
  });

  it('assigns the fields of an object without managedFields to before-first-apply', () => {
    const live = {
      ...config(),
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    } as KubeObject;
    delete live.status;
    expect(() => serverSideApply(live, config({ replicas: 7 }), opts('kubectl'))).toThrow(
      /"before-first-apply" using apps\/v1: \.spec\.replicas/,
    );
  });

  it('keeps managedFields a write sets itself and clears them on an empty list', () => {
    const live = serverSideApply(undefined, config(), opts('kubectl'));
    const migrated = structuredClone(live);
    migrated.metadata.managedFields = [{ ...live.metadata.managedFields![0]!, manager: 'renamed' }];
    expect(trackUpdate(live, migrated, opts('x'))![0]!.manager).toBe('renamed');
    const cleared = structuredClone(live);
    cleared.metadata.managedFields = [];
    expect(trackUpdate(live, cleared, opts('x'))).toBeUndefined();
  });

  it('merges custom resources by their CRD schema (lists atomic unless marked)', () => {
    const cr = crdSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            steps: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
          },
        },
      },
    });
    const o = { ...opts('a'), schema: cr, apiVersion: 'example.com/v1' };
    const obj = (spec: unknown) =>
      ({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec }) as KubeObject;
    const live = serverSideApply(undefined, obj({ steps: [{ a: 1 }], tags: ['x'] }), o);
    const next = serverSideApply(live, obj({ tags: ['y'] }), { ...o, manager: 'b' });
    expect(next.spec).toEqual({ steps: [{ a: 1 }], tags: ['x', 'y'] });
  });
});
