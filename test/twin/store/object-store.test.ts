import { describe, expect, it } from 'vitest';
import { isTwinError } from '../../../core/errors.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { ObjectStore, type WatchEvent } from '../../../twin/store/object-store.ts';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');

function configMap(name: string, labels: Record<string, string> = {}, namespace = 'default'): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data: { k: 'v' } };
}

function deployment(name: string, replicas = 1, namespace = 'default'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: { replicas, selector: { matchLabels: { app: name } } },
  };
}

const dref = (name: string, namespace = 'default') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  namespace,
  name,
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isTwinError(e) ? e.code : `not a TwinError: ${String(e)}`;
  }
  return undefined;
}

describe('ObjectStore.create', () => {
  it('assigns uid, resourceVersion, generation 1 and creationTimestamp from its clock', () => {
    let now = T0;
    const store = new ObjectStore(() => now);
    const a = store.create(deployment('a'));
    now += 5000;
    const b = store.create(deployment('b'));
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.metadata.uid).not.toBe(a.metadata.uid);
    expect(a.metadata.generation).toBe(1);
    expect(a.metadata.creationTimestamp).toBe('2025-01-01T00:00:00.000Z');
    expect(b.metadata.creationTimestamp).toBe('2025-01-01T00:00:05.000Z');
    expect(Number(b.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    expect(store.resourceVersion).toBe(b.metadata.resourceVersion);
    expect(store.get(dref('a'))).toEqual(a);
  });

  it('names objects from generateName and requires a name', () => {
    const store = new ObjectStore();
    const a = store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-', name: '' } });
    const b = store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-', name: '' } });
    expect(a.metadata.name).toMatch(/^web-.{5}$/);
    expect(b.metadata.name).not.toBe(a.metadata.name);
    expect(codeOf(() => store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: '' } }))).toBe(
      'TWIN_INVALID',
    );
  });

  it('refuses an object that already exists, and keeps kinds and namespaces apart', () => {
    const store = new ObjectStore();
    store.create(configMap('x'));
    expect(codeOf(() => store.create(configMap('x')))).toBe('TWIN_ALREADY_EXISTS');
    expect(() => store.create(configMap('x', {}, 'other'))).not.toThrow();
    expect(() =>
      store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'default' } }),
    ).not.toThrow();
    expect(() => store.create(configMap('x'))).toThrow(/ConfigMap default\/x already exists/);
  });
});

describe('ObjectStore.update', () => {
  it('rejects a stale resourceVersion with TWIN_CONFLICT and accepts the current one', () => {
    const store = new ObjectStore();
    const v1 = store.create(deployment('a', 1));
    const v2 = store.update({ ...v1, spec: { ...v1.spec, replicas: 2 } });
    expect(codeOf(() => store.update({ ...v1, spec: { ...v1.spec, replicas: 3 } }))).toBe('TWIN_CONFLICT');
    expect(store.get(dref('a'))?.spec.replicas).toBe(2);
    const v3 = store.update({ ...v2, spec: { ...v2.spec, replicas: 3 } });
    expect(v3.spec.replicas).toBe(3);
    expect(codeOf(() => store.update(deployment('missing')))).toBe('TWIN_NOT_FOUND');
  });

  it('bumps generation on a spec change only, never on status or metadata', () => {
    const store = new ObjectStore();
    const created = store.create(deployment('a', 1));
    const labelled = store.update({
      ...created,
      metadata: { ...created.metadata, labels: { app: 'a', tier: 'x' }, annotations: { note: 'y' } },
    });
    expect(labelled.metadata.generation).toBe(1);
    expect(labelled.metadata.labels).toEqual({ app: 'a', tier: 'x' });
    expect(labelled.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
    const withStatus = store.updateStatus({ ...labelled, status: { replicas: 1 } });
    expect(withStatus.metadata.generation).toBe(1);
    const scaled = store.update({ ...withStatus, spec: { ...withStatus.spec, replicas: 4 } });
    expect(scaled.metadata.generation).toBe(2);
    const patched = store.patch(dref('a'), (d) => {
      d.spec.replicas = 5;
    });
    expect(patched?.metadata.generation).toBe(3);
    const statusPatched = store.patch(dref('a'), (d) => {
      d.status = { replicas: 5 };
      d.metadata.labels = { app: 'a', patched: 'yes' };
    });
    expect(statusPatched?.metadata.generation).toBe(3);
  });

  it('keeps the stored status on a plain update and the spec on updateStatus', () => {
    const store = new ObjectStore();
    const created = store.create(deployment('a', 1));
    const s = store.updateStatus({ ...created, spec: { replicas: 99 }, status: { readyReplicas: 1 } });
    expect(s.spec.replicas).toBe(1);
    expect(s.status).toEqual({ readyReplicas: 1 });
    const u = store.update({ ...s, spec: { ...s.spec, replicas: 2 }, status: { readyReplicas: 42 } });
    expect(u.spec.replicas).toBe(2);
    expect(u.status).toEqual({ readyReplicas: 1 });
  });

  it('keeps uid and creationTimestamp whatever the input says', () => {
    const store = new ObjectStore();
    const created = store.create(deployment('a'));
    const u = store.update({
      ...created,
      metadata: { ...created.metadata, uid: 'forged', creationTimestamp: '1999-01-01T00:00:00Z' },
    });
    expect(u.metadata.uid).toBe(created.metadata.uid);
    expect(u.metadata.creationTimestamp).toBe(created.metadata.creationTimestamp);
  });
});

describe('ObjectStore.patch', () => {
  it('changes the latest version, returns undefined for a missing object and refuses a rename', () => {
    const store = new ObjectStore();
    store.create(configMap('a'));
    const p = store.patch({ kind: 'ConfigMap', namespace: 'default', name: 'a' }, (cm) => {
      (cm['data'] as Record<string, string>)['k'] = 'changed';
    });
    expect(p?.['data']).toEqual({ k: 'changed' });
    expect(store.get({ kind: 'ConfigMap', namespace: 'default', name: 'a' })?.['data']).toEqual({
      k: 'changed',
    });
    expect(store.patch({ kind: 'ConfigMap', namespace: 'default', name: 'nope' }, () => {})).toBeUndefined();
    expect(
      codeOf(() =>
        store.patch({ kind: 'ConfigMap', namespace: 'default', name: 'a' }, (cm) => {
          cm.metadata.name = 'b';
        }),
      ),
    ).toBe('TWIN_INVALID');
  });

  it('does not bump the resourceVersion nor emit an event when nothing changed', () => {
    const store = new ObjectStore();
    const created = store.create(configMap('a'));
    const events: WatchEvent[] = [];
    store.watch({ kind: 'ConfigMap' }, (e) => events.push(e));
    const same = store.patch({ kind: 'ConfigMap', namespace: 'default', name: 'a' }, () => {});
    expect(same?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(events).toEqual([]);
  });
});

describe('ObjectStore.apply', () => {
  it('creates, then replaces spec and metadata while keeping status and uid', () => {
    const store = new ObjectStore();
    const created = store.apply(deployment('a', 1));
    store.updateStatus({ ...created, status: { readyReplicas: 1 } });
    const applied = store.apply(deployment('a', 3));
    expect(applied.spec.replicas).toBe(3);
    expect(applied.status).toEqual({ readyReplicas: 1 });
    expect(applied.metadata.uid).toBe(created.metadata.uid);
    expect(applied.metadata.generation).toBe(2);
  });
});

describe('ObjectStore.delete', () => {
  it('cascades to dependents by ownerReferences, transitively, and leaves others alone', () => {
    const store = new ObjectStore();
    const d = store.create(deployment('a'));
    const owner = (o: KubeObject) => [
      {
        apiVersion: o.apiVersion,
        kind: o.kind,
        name: o.metadata.name,
        uid: o.metadata.uid!,
        controller: true,
      },
    ];
    const rs = store.create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'a-1', namespace: 'default', ownerReferences: owner(d) },
    });
    store.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'a-1-x', namespace: 'default', ownerReferences: owner(rs) },
    });
    store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lonely', namespace: 'default' } });
    const deleted: string[] = [];
    store.watch({}, (e) => {
      if (e.type === 'DELETED') deleted.push(`${e.object.kind}/${e.object.metadata.name}`);
    });
    const gone = store.delete(dref('a'));
    expect(gone?.metadata.deletionTimestamp).toBeDefined();
    expect(deleted).toEqual(['Deployment/a', 'ReplicaSet/a-1', 'Pod/a-1-x']);
    expect(store.list({ kind: 'Pod' }).map((p) => p.metadata.name)).toEqual(['lonely']);
    expect(store.list({ kind: 'ReplicaSet' })).toEqual([]);
    expect(store.delete(dref('a'))).toBeUndefined();
  });
});

describe('ObjectStore.watch', () => {
  it('filters by kind and namespace and delivers ADDED, MODIFIED and DELETED with oldObject', () => {
    const store = new ObjectStore();
    const all: WatchEvent[] = [];
    const prod: WatchEvent[] = [];
    const unwatchAll = store.watch({ kind: 'ConfigMap' }, (e) => all.push(e));
    store.watch({ kind: 'ConfigMap', namespace: 'prod' }, (e) => prod.push(e));
    store.create(configMap('a', {}, 'prod'));
    store.create(configMap('b', {}, 'dev'));
    store.create(deployment('d', 1, 'prod'));
    store.patch({ kind: 'ConfigMap', namespace: 'prod', name: 'a' }, (cm) => {
      cm['data'] = { k: 'v2' };
    });
    store.delete({ kind: 'ConfigMap', namespace: 'prod', name: 'a' });
    expect(all.map((e) => `${e.type} ${e.object.metadata.namespace}/${e.object.metadata.name}`)).toEqual([
      'ADDED prod/a',
      'ADDED dev/b',
      'MODIFIED prod/a',
      'DELETED prod/a',
    ]);
    expect(prod.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(prod[0]!.oldObject).toBeUndefined();
    expect(prod[1]!.oldObject?.['data']).toEqual({ k: 'v' });
    expect(prod[1]!.object['data']).toEqual({ k: 'v2' });
    expect(prod[2]!.oldObject?.['data']).toEqual({ k: 'v2' });
    unwatchAll();
    store.create(configMap('c', {}, 'dev'));
    expect(all).toHaveLength(4);
  });

  it('tells kinds of different API groups apart when the filter names an apiVersion', () => {
    const store = new ObjectStore();
    const seen: string[] = [];
    store.watch({ apiVersion: 'example.com/v1', kind: 'Deployment' }, (e) => seen.push(e.object.apiVersion));
    store.create(deployment('a'));
    store.create({ ...deployment('b'), apiVersion: 'example.com/v1' });
    expect(seen).toEqual(['example.com/v1']);
  });
});

describe('ObjectStore.list', () => {
  it('filters by namespace and by labelSelector (matchLabels and matchExpressions), sorted', () => {
    const store = new ObjectStore();
    store.create(configMap('c', { app: 'web', tier: 'front' }));
    store.create(configMap('a', { app: 'web', tier: 'back' }));
    store.create(configMap('b', { app: 'api' }));
    store.create(configMap('d', { app: 'web' }, 'other'));
    const names = (opts: Parameters<ObjectStore['list']>[1]) =>
      store.list({ kind: 'ConfigMap' }, opts).map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    expect(names({})).toEqual(['default/a', 'default/b', 'default/c', 'other/d']);
    expect(names({ namespace: 'default' })).toEqual(['default/a', 'default/b', 'default/c']);
    expect(names({ labelSelector: { matchLabels: { app: 'web' } } })).toEqual([
      'default/a',
      'default/c',
      'other/d',
    ]);
    expect(
      names({
        namespace: 'default',
        labelSelector: {
          matchLabels: { app: 'web' },
          matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }],
        },
      }),
    ).toEqual(['default/c']);
    expect(
      names({ labelSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }),
    ).toEqual(['default/b', 'other/d']);
    expect(store.list({ kind: 'Secret' })).toEqual([]);
    expect(store.types()).toEqual(['/ConfigMap']);
  });
});

describe('ObjectStore copies', () => {
  it('hands out copies: changing a returned, listed, watched or input object leaves the store as it was', () => {
    const store = new ObjectStore();
    const input = configMap('a');
    const watched: KubeObject[] = [];
    store.watch({}, (e) => watched.push(e.object));
    const created = store.create(input);
    (input['data'] as Record<string, string>)['k'] = 'input';
    (created['data'] as Record<string, string>)['k'] = 'created';
    (store.get({ kind: 'ConfigMap', namespace: 'default', name: 'a' })!['data'] as Record<string, string>)[
      'k'
    ] = 'got';
    (store.list({ kind: 'ConfigMap' })[0]!['data'] as Record<string, string>)['k'] = 'listed';
    (watched[0]!['data'] as Record<string, string>)['k'] = 'watched';
    expect(store.mustGet({ kind: 'ConfigMap', namespace: 'default', name: 'a' })['data']).toEqual({ k: 'v' });
    expect(codeOf(() => store.mustGet({ kind: 'ConfigMap', namespace: 'default', name: 'zz' }))).toBe(
      'TWIN_NOT_FOUND',
    );
  });
});

describe('ObjectStore history', () => {
  it('replays the changes after a resourceVersion, and gives up once they were compacted', () => {
    const store = new ObjectStore(Date.now, { historyLimit: 3 });
    const a = store.create(configMap('a'));
    store.create(configMap('b'));
    const gone = store.delete({ kind: 'ConfigMap', namespace: 'default', name: 'a' })!;
    expect(Number(gone.metadata.resourceVersion)).toBe(store.currentRevision);
    expect(Number(gone.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    const after = store.history.since(Number(a.metadata.resourceVersion))!;
    expect(after.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED b', 'DELETED a']);
    expect(store.history.since(0)).toHaveLength(3);
    store.create(configMap('c'));
    expect(store.history.since(0)).toBeUndefined();
    expect(store.history.since(Number(a.metadata.resourceVersion))).toHaveLength(3);
  });
});

describe('ObjectStore deletion with finalizers and propagation policies', () => {
  const owner = (o: KubeObject) => [
    {
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata.name,
      uid: o.metadata.uid!,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
  function family(store: ObjectStore) {
    const d = store.create(deployment('a'));
    const rs = store.create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'a-1', namespace: 'default', ownerReferences: owner(d) },
    });
    const pod = store.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'a-1-x', namespace: 'default', ownerReferences: owner(rs) },
    });
    return { d, rs, pod };
  }
  const podRef = { kind: 'Pod', namespace: 'default', name: 'a-1-x' };

  it('keeps an object with finalizers, marked for deletion, until the last finalizer goes', () => {
    const store = new ObjectStore();
    store.create({
      ...configMap('f'),
      metadata: { name: 'f', namespace: 'default', finalizers: ['example.com/x'] },
    });
    const ref = { kind: 'ConfigMap', namespace: 'default', name: 'f' };
    const marked = store.delete(ref)!;
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(store.get(ref)?.metadata.deletionTimestamp).toBe(marked.metadata.deletionTimestamp);
    const events: string[] = [];
    store.watch({}, (e) => events.push(e.type));
    store.patch(ref, (o) => {
      o.metadata.finalizers = [];
    });
    expect(store.get(ref)).toBeUndefined();
    expect(events).toEqual(['MODIFIED', 'DELETED']);
  });

  it('Orphan leaves the dependents without the owner reference', () => {
    const store = new ObjectStore();
    family(store);
    store.delete(dref('a'), { propagationPolicy: 'Orphan' });
    expect(store.get(dref('a'))).toBeUndefined();
    const rs = store.get({ kind: 'ReplicaSet', namespace: 'default', name: 'a-1' });
    expect(rs?.metadata.ownerReferences).toBeUndefined();
    expect(store.get(podRef)).toBeDefined();
  });

  it('Foreground deletes the dependents first and the owner after its blocking dependents are gone', () => {
    const store = new ObjectStore();
    const { pod } = family(store);
    store.patch(podRef, (p) => {
      p.metadata.finalizers = ['example.com/hold'];
    });
    const marked = store.delete(dref('a'), { propagationPolicy: 'Foreground' })!;
    expect(marked.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(store.get(dref('a'))?.metadata.deletionTimestamp).toBeDefined();
    expect(
      store.get({ kind: 'ReplicaSet', namespace: 'default', name: 'a-1' })?.metadata.deletionTimestamp,
    ).toBeDefined();
    expect(store.get(podRef)?.metadata.deletionTimestamp).toBeDefined();
    store.patch(podRef, (p) => {
      p.metadata.finalizers = [];
    });
    expect(store.get(podRef)).toBeUndefined();
    expect(store.get({ kind: 'ReplicaSet', namespace: 'default', name: 'a-1' })).toBeUndefined();
    expect(store.get(dref('a'))).toBeUndefined();
    expect(pod.metadata.uid).toBeDefined();
  });

  it('Background keeps a dependent that still has another owner, dropping the dangling reference', () => {
    const store = new ObjectStore();
    const a = store.create(deployment('a'));
    const b = store.create(deployment('b'));
    store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'shared', namespace: 'default', ownerReferences: [...owner(a), ...owner(b)] },
    });
    store.delete(dref('a'));
    const shared = store.get({ kind: 'ConfigMap', namespace: 'default', name: 'shared' });
    expect(shared?.metadata.ownerReferences?.map((o) => o.name)).toEqual(['b']);
    store.delete(dref('b'));
    expect(store.get({ kind: 'ConfigMap', namespace: 'default', name: 'shared' })).toBeUndefined();
  });

  it('refuses a delete whose preconditions do not hold', () => {
    const store = new ObjectStore();
    store.create(configMap('p'));
    const ref = { kind: 'ConfigMap', namespace: 'default', name: 'p' };
    expect(codeOf(() => store.delete(ref, { preconditions: { uid: 'other' } }))).toBe('TWIN_CONFLICT');
    expect(store.get(ref)).toBeDefined();
  });
});
