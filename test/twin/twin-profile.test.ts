import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterProfile } from '../../system/profiles/profile-registry.ts';
import { loadSystem, REPO_ROOT, resolveSystem } from '../../system/system.ts';
import { Twin } from '../../twin/twin.ts';

const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const scratch = mkdtempSync(path.join(tmpdir(), 'twin-profile-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function up(fixture: string, overlay: string, profile: 'eks' | 'k3s') {
  const layout = await resolveSystem(path.join(REPO_ROOT, 'test/fixtures/defects', fixture));
  const system = await loadSystem(layout, overlay, () => {}, clusterProfile(profile));
  return Twin.up({
    system,
    timeScale: 100,
    workDir: mkdtempSync(path.join(scratch, `${fixture}-`)),
    readyTimeoutMs: 8_000,
  });
}

/** The twin is the profile's cluster: what fails on k3s fails on the twin with --profile k3s, and only there. */
describe.skipIf(!hasKustomize)('the twin under a profile (needs kubectl or kustomize)', () => {
  it('gp3 claims: bound on EKS (EBS CSI runs), never on k3s (only local-path), where the pod stays Pending', async () => {
    const eks = await up('gp3-claims-on-k3s', 'k3d', 'eks');
    try {
      const claim = eks.store.get({
        kind: 'PersistentVolumeClaim',
        namespace: 'app',
        name: 'data-prometheus-0',
      });
      expect(claim?.status?.phase).toBe('Bound');
    } finally {
      await eks.down();
    }
    // as twin check says (test/system/check/defects.test.ts): the claim waits for ebs.csi.aws.com
    await expect(up('gp3-claims-on-k3s', 'k3d', 'k3s')).rejects.toThrow(
      'timed out after 8.0 s waiting for every workload to become ready (1 not ready: StatefulSet app/prometheus (0/1 ready); pending pods: Pod app/prometheus-0: running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded)',
    );
  }, 60_000);

  it('k3s: the laptop-sized nodes, local-path and Traefik; an alb Ingress gets no address', async () => {
    const twin = await up('alb-ingress-on-k3s', 'k3d', 'k3s');
    try {
      expect(
        twin.store.list({ kind: 'StorageClass' }).map((c) => [c.metadata.name, c['provisioner']]),
      ).toEqual([['local-path', 'rancher.io/local-path']]);
      expect(
        twin.store.list({ kind: 'IngressClass' }).map((c) => [c.metadata.name, c.spec.controller]),
      ).toEqual([['traefik', 'traefik.io/ingress-controller']]);
      await expect(twin.network.ingressUrl({ namespace: 'app', name: 'web' })).rejects.toThrow(
        'Ingress app/web has no address: no Ingress controller of this cluster serves it (IngressClass "alb" does not exist (classes: traefik))',
      );
    } finally {
      await twin.down();
    }
  }, 60_000);

  it('k3s enforces NetworkPolicy: a default deny that does not admit Traefik (kube-system) makes the Ingress answer 504; admitting it lets requests through', async () => {
    const twin = await up('default-deny-drops-traefik', 'k3d', 'k3s');
    try {
      const url = await twin.network.ingressUrl({ namespace: 'app', name: 'web' });
      const t0 = performance.now();
      const denied = await fetch(`${url}/`, { signal: AbortSignal.timeout(30_000) });
      expect(denied.status).toBe(504);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(9_000); // the connection timed out (10 s)
      // the fix of the k3d overlays: admit Traefik's pods from kube-system
      twin.store.apply({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-from-traefik', namespace: 'app' },
        spec: {
          podSelector: { matchLabels: { app: 'web' } },
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                  podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } },
                },
              ],
              ports: [{ protocol: 'TCP', port: 8080 }],
            },
          ],
        },
      });
      await twin.network.policySynced();
      const allowed = await fetch(`${url}/`, { signal: AbortSignal.timeout(10_000) });
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toMatchObject({ pod: expect.stringMatching(/^web-/) });
    } finally {
      await twin.down();
    }
  }, 90_000);
});
