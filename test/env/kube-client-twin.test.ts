import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientNodeKubeApi } from '../../env/kube-client.ts';
import type { KubeObject } from '../../kube/object.ts';
import { startApiServer } from '../twin/apiserver/api-server-harness.ts';

/** The Environment's KubeApi (what `env.kube` is on local and on k3d) against the twin's API server. */
describe('KubeApi on @kubernetes/client-node against the twin API server', () => {
  let s: Awaited<ReturnType<typeof startApiServer>>;
  let kube: ClientNodeKubeApi;
  beforeAll(async () => {
    s = await startApiServer({
      evict: (ref) =>
        ref.name === 'guarded'
          ? {
              code: 429,
              message:
                "Cannot evict pod as it would violate the pod's disruption budget. needs 2 healthy pods",
            }
          : { code: 200, message: 'evicted' },
    });
    const kc = new KubeConfig();
    kc.loadFromFile(s.server.kubeconfigFile);
    kube = new ClientNodeKubeApi(kc);
  });
  afterAll(() => s.stop());

  const deployment = (replicas: number): KubeObject =>
    ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'production', labels: { app: 'web' } },
      spec: {
        replicas,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'web:1' }] },
        },
      },
    }) as KubeObject;

  it('sends and returns the API’s JSON as it is: reserved words (NetworkPolicy `from`), string timestamps', async () => {
    const policy = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-from-alb', namespace: 'production' },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ ipBlock: { cidr: '10.0.1.0/24' } }], ports: [{ port: 8080 }] }],
      },
    } as KubeObject;
    const [applied] = await kube.apply(policy);
    expect(applied!.spec.ingress).toEqual(policy.spec.ingress);
    const read = await kube.get({ kind: 'NetworkPolicy', namespace: 'production', name: 'allow-from-alb' });
    expect(read!.spec.ingress[0].from).toEqual([{ ipBlock: { cidr: '10.0.1.0/24' } }]);
    expect(read!.spec.ingress[0]).not.toHaveProperty('_from');
    expect(typeof read!.metadata.creationTimestamp).toBe('string');
    const [listed] = await kube.list({ kind: 'NetworkPolicy' }, { namespace: 'production' });
    expect(listed!.spec.ingress[0].from).toEqual([{ ipBlock: { cidr: '10.0.1.0/24' } }]);
    await kube.delete({ kind: 'NetworkPolicy', namespace: 'production', name: 'allow-from-alb' });
  });

  it('applies (server-side, field manager infra-twin), gets, lists by label and patches read-modify-write', async () => {
    const [created] = await kube.apply(deployment(2));
    expect(created!.metadata.managedFields?.[0]).toMatchObject({ manager: 'infra-twin', operation: 'Apply' });
    const [again] = await kube.apply(deployment(3));
    expect(again!.spec.replicas).toBe(3);
    expect(
      (await kube.get({ kind: 'Deployment', namespace: 'production', name: 'web' }))?.spec.replicas,
    ).toBe(3);
    expect(await kube.get({ kind: 'Deployment', namespace: 'production', name: 'nope' })).toBeUndefined();
    const listed = await kube.list(
      { kind: 'Deployment' },
      { labelSelector: { matchLabels: { app: 'web' } } },
    );
    expect(listed.map((d) => `${d.kind} ${d.metadata.name}`)).toEqual(['Deployment web']);
    const patched = await kube.patch({ kind: 'Deployment', namespace: 'production', name: 'web' }, (d) => {
      d.spec.replicas = 5;
    });
    expect(patched?.spec.replicas).toBe(5);
  });

  it('lists a kind the server does not serve as kubectl says it: no matches for kind (no Argo Rollouts CRD here)', async () => {
    await expect(kube.list({ kind: 'Rollout' })).rejects.toThrow(
      'no matches for kind "Rollout" in version "argoproj.io/v1alpha1"',
    );
  });

  it('watches and waits for a change', async () => {
    const seen: string[] = [];
    const stop = kube.watch({ kind: 'ConfigMap', namespace: 'production' }, (e) =>
      seen.push(`${e.type} ${e.object.metadata.name}`),
    );
    await new Promise((r) => setTimeout(r, 300));
    const waiting = kube.waitFor(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'production', name: 'flag' },
      (o) => (o?.['data'] as Record<string, string> | undefined)?.['on'] === 'yes',
      { timeout: 10_000, what: 'the flag to be on' },
    );
    await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'flag', namespace: 'production' },
      data: { on: 'no' },
    } as KubeObject);
    await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'flag', namespace: 'production' },
      data: { on: 'yes' },
    } as KubeObject);
    expect((await waiting)?.['data']).toEqual({ on: 'yes' });
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'production', name: 'flag' });
    const deadline = Date.now() + 5000;
    while (!seen.includes('DELETED flag') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    stop();
    expect(seen).toEqual(['ADDED flag', 'MODIFIED flag', 'DELETED flag']);
  });

  it('evicts through the eviction API: a PDB refusal surfaces as 429', async () => {
    s.store.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'guarded', namespace: 'production' },
      spec: { containers: [] },
    });
    await expect(kube.evict({ namespace: 'production', name: 'guarded' })).rejects.toMatchObject({
      code: 429,
    });
  });
});
