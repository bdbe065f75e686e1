import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { claimAddressBlock } from '../../../twin/network/address-allocator.ts';
import { attemptConnection } from '../../../twin/network/connect-attempt.ts';
import { NetworkPolicyIndex, type Peer } from '../../../twin/network/network-policy.ts';
import {
  compileRuleset,
  type PresentedActor,
  type ServicePortTarget,
} from '../../../twin/network/network-policy-ruleset.ts';
import {
  applyNft,
  deleteTable,
  listTwinTables,
  nftAvailable,
  tableName,
} from '../../../twin/network/nftables.ts';

const nft = await nftAvailable();

function ns(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

function pod(
  namespace: string,
  name: string,
  ip: string,
  labels: Record<string, string>,
  ports: Array<{ name?: string; containerPort: number }> = [],
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels, uid: `${namespace}-${name}` },
    spec: { nodeName: 'n1', containers: [{ name: 'main', image: 'x', ports }] },
    status: { podIP: ip, phase: 'Running' },
  };
}

function policy(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec };
}

/**
 * A small cluster in the /24s `pods` and `services` (third octets of one claimed address block), with
 * policies that use every kind of peer and port: default deny, namespace and pod selectors, ipBlock
 * with except (matching the load balancer by what it stands for), named ports, endPort, egress.
 */
function cluster(podNet: string, svcNet: string) {
  const namespaces = [ns('production', { team: 'shop' }), ns('data'), ns('other')];
  const web = pod('production', 'web', `${podNet}.2`, { app: 'web' }, [
    { name: 'http', containerPort: 18080 },
  ]);
  const api = pod('production', 'api', `${podNet}.3`, { app: 'api' }, [
    { name: 'http', containerPort: 18080 },
  ]);
  const db = pod('data', 'db', `${podNet}.4`, { app: 'db' }, [{ name: 'postgres', containerPort: 15432 }]);
  const cache = pod('data', 'cache', `${podNet}.5`, { app: 'cache' }, [
    { name: 'redis', containerPort: 16379 },
  ]);
  const intruder = pod('other', 'intruder', `${podNet}.6`, { app: 'web' });
  const pods = [web, api, db, cache, intruder];
  const policies = [
    policy('data', 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }),
    policy('data', 'db-from-shop', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { team: 'shop' } } }], ports: [{ port: 'postgres' }] },
      ],
    }),
    policy('data', 'cache-from-api', {
      podSelector: { matchLabels: { app: 'cache' } },
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'production' } },
              podSelector: { matchLabels: { app: 'api' } },
            },
          ],
          ports: [{ port: 16000, endPort: 16999 }],
        },
      ],
    }),
    policy('production', 'api-from-alb-and-web', {
      podSelector: { matchLabels: { app: 'api' } },
      ingress: [
        { from: [{ ipBlock: { cidr: '10.0.1.0/24' } }, { podSelector: { matchLabels: { app: 'web' } } }] },
        {
          from: [{ ipBlock: { cidr: `${podNet}.192/26`, except: [`${podNet}.200/32`] } }],
          ports: [{ protocol: 'TCP', port: 18080 }],
        },
      ],
    }),
    policy('production', 'web-egress', {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 'http' }] }],
    }),
  ];
  return { namespaces, pods, policies, web, api, db, cache, intruder, svcNet };
}

describe('compileRuleset (pure)', () => {
  it('writes one atomic transaction: egress chains by source, ingress chains by destination, Service drops', () => {
    const c = cluster('127.10.240', '127.96.240');
    const index = new NetworkPolicyIndex(c);
    const actors: PresentedActor[] = [
      { address: '127.96.240.9', peer: { kind: 'external', ip: '10.0.1.254' } },
    ];
    const services: ServicePortTarget[] = [
      { ip: '127.96.240.2', port: 5432, endpoints: [{ pod: c.db, port: 15432 }] },
      { ip: '127.96.240.3', port: 80, endpoints: [{ pod: c.api, port: 18080 }] },
    ];
    const text = compileRuleset({
      table: 'infra_twin_15',
      index,
      ours: (ip) => ip.startsWith('127.10.240.') || ip.startsWith('127.96.240.'),
      actors,
      services,
    });
    expect(text).toBe(`table ip infra_twin_15
delete table ip infra_twin_15
table ip infra_twin_15 {
  chain output {
    type filter hook output priority filter; policy accept;
    meta l4proto != tcp accept
    tcp flags & (syn | ack) != syn accept
    ip saddr 127.0.0.1 accept
    ip daddr 127.0.0.1 accept
    ip daddr vmap { 127.96.240.2 : goto svc_127_96_240_2, 127.96.240.3 : goto svc_127_96_240_3 }
    ip saddr vmap { 127.10.240.2 : jump eg_127_10_240_2 }
    ip daddr vmap { 127.10.240.3 : goto in_127_10_240_3, 127.10.240.4 : goto in_127_10_240_4, 127.10.240.5 : goto in_127_10_240_5 }
  }
  chain svc_127_96_240_2 {
    tcp dport 5432 ip saddr { 127.10.240.2, 127.10.240.5, 127.10.240.6, 127.96.240.9 } drop
  }
  chain svc_127_96_240_3 {
    tcp dport 80 ip saddr { 127.10.240.4, 127.10.240.5, 127.10.240.6 } drop
  }
  chain eg_127_10_240_2 {
    ip daddr 127.10.240.2 return
    ip daddr 127.10.240.3 tcp dport 18080 return
    drop
  }
  chain in_127_10_240_3 {
    ip saddr 127.10.240.3 accept
    ip saddr 127.96.240.9 accept
    ip saddr != 127.96.240.9 ip saddr 10.0.1.0/24 accept
    ip saddr 127.10.240.2 accept
    ip saddr != 127.96.240.9 ip saddr 127.10.240.192/26 ip saddr != 127.10.240.200/32 tcp dport 18080 accept
    drop
  }
  chain in_127_10_240_4 {
    ip saddr 127.10.240.4 accept
    ip saddr { 127.10.240.2, 127.10.240.3 } tcp dport 15432 accept
    drop
  }
  chain in_127_10_240_5 {
    ip saddr 127.10.240.5 accept
    ip saddr 127.10.240.3 tcp dport 16000-16999 accept
    drop
  }
}
`);
  });
});

describe.skipIf(!nft.ok)(
  `NetworkPolicy in the kernel agrees with the pure semantics (needs root and nftables${nft.ok ? '' : `: ${nft.reason}`})`,
  () => {
    const block = claimAddressBlock();
    const podNet = `127.10.${block.first}`;
    const svcNet = `127.96.${block.first}`;
    const table = tableName(block.index);
    const c = cluster(podNet, svcNet);
    const index = new NetworkPolicyIndex(c);
    const lb: PresentedActor = { address: `${svcNet}.9`, peer: { kind: 'external', ip: '10.0.1.254' } };
    const services: ServicePortTarget[] = [
      { ip: `${svcNet}.2`, port: 15432, endpoints: [{ pod: c.db, port: 15432 }] },
      { ip: `${svcNet}.3`, port: 18080, endpoints: [{ pod: c.api, port: 18080 }] },
    ];
    const servers: Server[] = [];
    const listen = (host: string, port: number) =>
      new Promise<void>((resolve, reject) => {
        const s = createServer((sock) => sock.destroy());
        s.once('error', reject);
        s.listen(port, host, () => resolve());
        servers.push(s);
      });

    beforeAll(async () => {
      if (!nft.ok) return;
      const ports = [18080, 15432, 16379, 16500];
      for (const p of c.pods) for (const port of ports) await listen(p.status.podIP, port);
      for (const s of services) await listen(s.ip, s.port);
      await applyNft(
        nft.nft,
        compileRuleset({
          table,
          index,
          ours: (ip) => ip.startsWith(`${podNet}.`) || ip.startsWith(`${svcNet}.`),
          actors: [lb],
          services,
        }),
      );
    });

    afterAll(async () => {
      if (nft.ok) await deleteTable(nft.nft, table);
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      block.release();
    });

    it('every source × pod × port: connected where the policies allow it, timed out where they deny it', async () => {
      const sources: Array<{ address: string; peer: Peer }> = [
        ...c.pods.map((p) => ({ address: p.status.podIP as string, peer: { kind: 'pod', pod: p } as Peer })),
        { address: lb.address, peer: lb.peer },
        // Addresses that are no pod: an ipBlock matches them by their own address.
        { address: `${podNet}.201`, peer: { kind: 'external', ip: `${podNet}.201` } },
        { address: `${podNet}.200`, peer: { kind: 'external', ip: `${podNet}.200` } },
        { address: '127.0.0.1', peer: { kind: 'node' } },
      ];
      const cases = sources.flatMap((s) =>
        c.pods.flatMap((d) => [18080, 15432, 16379, 16500].map((port) => ({ s, d, port }))),
      );
      const results = await Promise.all(
        cases.map(async ({ s, d, port }) => {
          const expected = index.evaluate(s.peer, { kind: 'pod', pod: d }, port);
          const r = await attemptConnection({
            host: d.status.podIP,
            port,
            timeoutMs: 1500,
            ...(s.address === '127.0.0.1' ? {} : { localAddress: s.address }),
          });
          return {
            expected: expected.allowed ? 'connected' : 'timed-out',
            got: r.outcome,
            why: expected.reason,
          };
        }),
      );
      const wrong = results.filter((r) => r.expected !== r.got);
      expect(wrong, JSON.stringify(wrong, null, 1)).toEqual([]);
      // Both outcomes occur, so the comparison has teeth.
      expect(results.filter((r) => r.got === 'timed-out').length).toBeGreaterThan(20);
      expect(results.filter((r) => r.got === 'connected').length).toBeGreaterThan(20);
    });

    it('a client denied every endpoint of a Service port times out at the Service IP; others connect', async () => {
      const at = (source: string, svc: ServicePortTarget) =>
        attemptConnection({ host: svc.ip, port: svc.port, timeoutMs: 1500, localAddress: source });
      const [db, api] = services as [ServicePortTarget, ServicePortTarget];
      expect((await at(c.api.status.podIP, db)).outcome).toBe('connected');
      expect((await at(c.cache.status.podIP, db)).outcome).toBe('timed-out');
      expect((await at(lb.address, api)).outcome).toBe('connected');
      expect((await at(c.intruder.status.podIP, api)).outcome).toBe('timed-out');
      // web may reach api (egress http, ingress from web), but not db: db admits production, web's egress does not.
      expect((await at(c.web.status.podIP, api)).outcome).toBe('connected');
      expect((await at(c.web.status.podIP, db)).outcome).toBe('timed-out');
    });

    it('deleting the table removes every rule it installed', async () => {
      if (!nft.ok) return;
      await deleteTable(nft.nft, table);
      expect(await listTwinTables(nft.nft)).not.toContain(block.index);
      const r = await attemptConnection({
        host: c.db.status.podIP,
        port: 15432,
        timeoutMs: 1500,
        localAddress: c.intruder.status.podIP,
      });
      expect(r.outcome).toBe('connected');
    });
  },
);
