import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectCheck, Environment, KubeObject } from '../../../env/environment.ts';
import { localEnvironment } from '../../../env/local/local-environment.ts';
import { REPO_ROOT } from '../../../system/system.ts';
import { findBinary } from '../../../twin/data/binaries.ts';
import { redisCall } from '../../../twin/data/redis/redis-call.ts';
import { listTwinTables, nftAvailable } from '../../../twin/network/nftables.ts';

const nft = await nftAvailable();
const redis = findBinary({ name: 'redis-server', dirs: ['/usr/sbin', '/usr/bin'] });
const SYSTEM = path.join(REPO_ROOT, 'test/fixtures/systems/network-policy');
/** How long a connection attempt may take before it counts as timed out (real ms; generous for a loaded machine). */
const TIMEOUT_MS = 1500;

const needs = [
  ...(nft.ok ? [] : [`root and nftables: ${nft.reason}`]),
  ...(redis ? [] : ['redis-server: not found (apt-get install -y redis-server)']),
];

describe.skipIf(needs.length > 0)(
  `NetworkPolicy enforced on the twin: live Node pods and a native redis-server, through Services and straight to pod addresses${needs.length ? ` (needs ${needs.join('; ')})` : ''}`,
  () => {
    let env: Environment;
    const progress: string[] = [];
    let block: number | undefined;
    const workDir = mkdtempSync(path.join(tmpdir(), 'twin-netpol-'));

    const pod = async (namespace: string, app: string): Promise<KubeObject> => {
      const pods = await env.kube.list(
        { kind: 'Pod' },
        { namespace, labelSelector: { matchLabels: { app } } },
      );
      const p = pods.find((x) => x.status?.podIP && x.status?.phase === 'Running');
      if (!p) throw new Error(`no running pod of ${namespace}/${app}`);
      return p;
    };
    const check = async (c: Omit<ConnectCheck, 'timeoutMs'>) =>
      (await env.net.canConnect({ ...c, timeoutMs: TIMEOUT_MS })).outcome;
    /** The probe server in a pod opens a connection itself (its own process, its own preload). */
    const fromInside = async (p: KubeObject, host: string, port: number) => {
      const url = `http://${p.status.podIP}:8080/connect?host=${host}&port=${port}&timeoutMs=${TIMEOUT_MS}`;
      return (await (await fetch(url)).json()) as { outcome: string; from?: string };
    };
    const policy = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace, name },
      spec,
    });
    const del = (namespace: string, name: string) =>
      env.kube.delete({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace, name });

    beforeAll(async () => {
      env = await localEnvironment.up({
        system: SYSTEM,
        overlay: 'local',
        timeScale: 10,
        workDir,
        progress: (m) => progress.push(m),
      });
      const web = await pod('shop', 'web');
      block = Number(web.status.podIP.split('.')[2]) >> 4;
    }, 180_000);

    afterAll(async () => {
      await env?.down();
      if (nft.ok && block !== undefined) expect(await listTwinTables(nft.nft)).not.toContain(block);
    }, 60_000);

    it('says at startup how NetworkPolicy is enforced and where the load balancer connects from', () => {
      expect(progress).toContainEqual(
        expect.stringMatching(/^NetworkPolicy enforced in the kernel \(nftables table ip infra_twin_\d+\)/),
      );
      expect(progress).toContainEqual(
        expect.stringMatching(
          /LD_PRELOAD pod-source-address\.so|native programs .* connect from 127\.0\.0\.1/,
        ),
      );
      expect(progress).toContainEqual(
        expect.stringMatching(
          /The Ingress load balancer connects to pods from 127\.96\.\d+\.\d+ as 10\.0\.1\.254/,
        ),
      );
    });

    it('the cache is reachable only from the app tier of shop: straight to its address and through its Service', async () => {
      const from = { web: { namespace: 'shop', pod: (await pod('shop', 'web')).metadata.name } };
      const intruder = { namespace: 'other', pod: (await pod('other', 'intruder')).metadata.name };
      const cachePod = { namespace: 'data', pod: (await pod('data', 'cache')).metadata.name };
      expect(await check({ from: from.web, to: cachePod, port: 'redis' })).toBe('connected');
      expect(await check({ from: from.web, to: { namespace: 'data', service: 'cache' }, port: 6379 })).toBe(
        'connected',
      );
      const denied = await env.net.canConnect({
        from: intruder,
        to: cachePod,
        port: 6379,
        timeoutMs: TIMEOUT_MS,
      });
      expect(denied.outcome).toBe('timed-out');
      expect(denied.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(denied.detail).toMatch(/denied by ingress: Pod data\/cache-.* is isolated for ingress/);
      expect(
        await check({ from: intruder, to: { namespace: 'data', service: 'cache' }, port: 'redis' }),
      ).toBe('timed-out');
      // Not isolated for ingress: web accepts the intruder.
      expect(await check({ from: intruder, to: from.web, port: 8080 })).toBe('connected');
    });

    it("a live Node pod's own connections leave from its pod address, to a pod address or a cluster name", async () => {
      const web = await pod('shop', 'web');
      const intruder = await pod('other', 'intruder');
      const cache = await pod('data', 'cache');
      expect(await fromInside(web, cache.status.podIP, 6379)).toEqual({
        outcome: 'connected',
        from: web.status.podIP,
      });
      expect(await fromInside(web, 'cache.data', 6379)).toEqual({
        outcome: 'connected',
        from: web.status.podIP,
      });
      expect((await fromInside(intruder, cache.status.podIP, 6379)).outcome).toBe('timed-out');
      expect((await fromInside(intruder, 'cache.data.svc.cluster.local', 6379)).outcome).toBe('timed-out');
    });

    it('egress: a policy on web lets it reach only the cache; it times out towards the intruder, whose ingress is open', async () => {
      const web = await pod('shop', 'web');
      const intruder = await pod('other', 'intruder');
      await env.kube.apply(
        policy('shop', 'web-egress-to-cache', {
          podSelector: { matchLabels: { app: 'web' } },
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } } }],
              ports: [{ protocol: 'TCP', port: 6379 }],
            },
          ],
        }),
      );
      try {
        const webRef = { namespace: 'shop', pod: web.metadata.name };
        const intruderRef = { namespace: 'other', pod: intruder.metadata.name };
        expect(await check({ from: webRef, to: intruderRef, port: 8080 })).toBe('timed-out');
        expect(await check({ from: webRef, to: { namespace: 'other', service: 'intruder' }, port: 80 })).toBe(
          'timed-out',
        );
        expect((await fromInside(web, 'intruder.other', 80)).outcome).toBe('timed-out');
        expect((await fromInside(web, 'cache.data', 6379)).outcome).toBe('connected');
        expect(await check({ from: intruderRef, to: webRef, port: 'http' })).toBe('connected');
      } finally {
        await del('shop', 'web-egress-to-cache');
      }
      expect((await fromInside(web, 'intruder.other', 80)).outcome).toBe('connected');
    });

    it('a native program: redis-server replicas connect to the cache from their pod address, and only the app tier gets through', async () => {
      const cache = await pod('data', 'cache');
      const replica = (namespace: string): KubeObject => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'replica', namespace },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'replica' } },
          template: {
            metadata: { labels: { app: 'replica', tier: 'app' } },
            spec: {
              containers: [
                {
                  name: 'redis',
                  image: 'twin.test/redis:7',
                  // A replica writes the master's RDB into --dir: the run's directory, not the repository.
                  args: [
                    '--port',
                    '6379',
                    '--bind',
                    '$(POD_IP)',
                    '--save',
                    '',
                    '--appendonly',
                    'no',
                    '--dir',
                    workDir,
                  ],
                  env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
                  resources: { requests: { cpu: '50m', memory: '32Mi' } },
                },
              ],
            },
          },
        },
      });
      // --replicaof needs the master's address: the cache pod's own.
      for (const ns of ['shop', 'other']) {
        const d = replica(ns);
        d.spec.template.spec.containers[0].args.push('--replicaof', cache.status.podIP, '6379');
        await env.kube.apply(d);
      }
      const linkStatus = async (namespace: string) => {
        const p = await pod(namespace, 'replica').catch(() => undefined);
        if (!p) return undefined;
        const info = await redisCall<string>({ host: p.status.podIP, port: 6379 }, ['INFO', 'replication']);
        return /master_link_status:(\w+)/.exec(info ?? '')?.[1];
      };
      const deadline = Date.now() + 30_000;
      while ((await linkStatus('shop')) !== 'up' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 250));
      expect(await linkStatus('shop')).toBe('up');
      const shopReplica = await pod('shop', 'replica');
      const clients = await redisCall<string>({ host: cache.status.podIP, port: 6379 }, ['CLIENT', 'LIST']);
      expect(clients).toContain(`addr=${shopReplica.status.podIP}:`);
      // The other namespace's replica has been trying as long: its SYNs are dropped.
      expect(await linkStatus('other')).toBe('down');
      expect(clients).not.toContain(`addr=${(await pod('other', 'replica')).status.podIP}:`);
      for (const ns of ['shop', 'other'])
        await env.kube.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'replica' });
    }, 60_000);

    it('the Ingress load balancer connects from its subnet: admitted by an ipBlock, a 504 after the target timeout once denied', async () => {
      const url = await env.net.ingressUrl({ namespace: 'shop', name: 'shop' });
      await env.kube.apply([
        policy('shop', 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }),
        policy('shop', 'allow-from-alb', {
          podSelector: { matchLabels: { app: 'web' } },
          ingress: [{ from: [{ ipBlock: { cidr: '10.0.1.0/24' } }], ports: [{ port: 8080 }] }],
        }),
      ]);
      try {
        const ok = await fetch(`${url}/`);
        expect(ok.status).toBe(200);
        expect(((await ok.json()) as { from: string }).from).toMatch(/^127\.96\.\d+\.\d+$/);
        // The pods of shop are isolated now, but their node (the kubelet's probes) still reaches them.
        const web = await pod('shop', 'web');
        expect(web.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
        const intruder = await pod('other', 'intruder');
        expect((await fromInside(intruder, web.status.podIP, 8080)).outcome).toBe('timed-out');
        await del('shop', 'allow-from-alb');
        const t0 = Date.now();
        const denied = await fetch(`${url}/`);
        expect(denied.status).toBe(504);
        expect(Date.now() - t0).toBeGreaterThanOrEqual(9_500);
      } finally {
        await del('shop', 'default-deny-ingress');
        await del('shop', 'allow-from-alb');
      }
    }, 60_000);
  },
);
