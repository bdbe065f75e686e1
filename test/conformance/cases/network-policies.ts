import { expect } from 'vitest';
import type { ConnectCheck, ConnectResult, KubeObject } from '../../../env/environment.ts';
import type { CaseContext, ConformanceCase } from '../conformance-case.ts';
import { isReady } from '../objects.ts';

const POLICIES = 'https://kubernetes.io/docs/concepts/services-networking/network-policies/';
const API = 'https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/';

/** An allowed connection answers at once; the limit only has to outlast a stalled, loaded machine. */
const ALLOWED_MS = 10_000;
/** How long a connection whose SYN gets no answer is waited for before it counts as timed out. */
const DENIED_MS = 2_000;

interface Peer {
  namespace: string;
  pod: string;
  ip: string;
}

/**
 * A pod running agnhost `netexec` (an HTTP server) on each port, one container per port as the
 * upstream e2e NetworkPolicy tests run theirs; also the pod connections leave from.
 */
function netexecPod(
  t: CaseContext,
  name: string,
  labels: Record<string, string>,
  o: { namespace?: string; ports?: Array<{ name: string; port: number }> } = {},
): KubeObject {
  const ports = o.ports ?? [{ name: 'http', port: 8080 }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels, ...(o.namespace ? { namespace: o.namespace } : {}) },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: ports.map((p) => ({
        name: `netexec-${p.port}`,
        image: t.images.netexec,
        args: ['netexec', `--http-port=${p.port}`, '--udp-port=-1'],
        ports: [{ name: p.name, containerPort: p.port }],
        readinessProbe: { tcpSocket: { port: p.port }, periodSeconds: 1 },
      })),
    },
  };
}

/** Applies the pods and waits until each is Ready with an address. */
async function runPods(t: CaseContext, ...pods: KubeObject[]): Promise<Record<string, Peer>> {
  await t.apply(...pods);
  const out: Record<string, Peer> = {};
  for (const p of pods) {
    const namespace: string = p.metadata.namespace ?? t.ns;
    const name: string = p.metadata.name;
    const ready = await t.until(`Pod ${namespace}/${name} Ready with an address`, 120, async () => {
      const got = await t.get({ kind: 'Pod', namespace, name });
      return got?.status?.podIP && isReady(got) ? got : undefined;
    });
    out[name] = { namespace, pod: name, ip: ready.status.podIP };
  }
  return out;
}

function policy(name: string, spec: Record<string, unknown>, namespace?: string): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec,
  };
}

function deletePolicy(t: CaseContext, name: string): Promise<void> {
  return t.delete({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name });
}

/** A namespace of the case's own besides `t.ns` (deleted after the case, its pods waited for). */
async function peerNamespace(t: CaseContext, labels: Record<string, string> = {}): Promise<string> {
  const name = `${t.ns}-peer`;
  await t.apply({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'app.kubernetes.io/part-of': 'conformance', ...labels } },
  });
  return name;
}

type Target = { pod: Peer } | { service: string; namespace?: string };

function check(
  t: CaseContext,
  from: Peer,
  to: Target,
  port: number | string,
): Omit<ConnectCheck, 'timeoutMs'> {
  return {
    from: { namespace: from.namespace, pod: from.pod },
    to:
      'pod' in to
        ? { namespace: to.pod.namespace, pod: to.pod.pod }
        : { namespace: to.namespace ?? t.ns, service: to.service },
    port,
  };
}

function describeCheck(c: Omit<ConnectCheck, 'timeoutMs'>): string {
  const to =
    'pod' in c.to ? `pod ${c.to.namespace}/${c.to.pod}` : `Service ${c.to.namespace}/${c.to.service}`;
  return `${c.from.namespace}/${c.from.pod} → ${to} port ${c.port}`;
}

/**
 * Waits until the connection goes through. A network plugin applies a policy change a little after
 * the API server took it (the upstream e2e tests probe until the expected answer too); the twin's
 * rules are in place before the first attempt.
 */
async function expectConnected(
  t: CaseContext,
  from: Peer,
  to: Target,
  port: number | string,
): Promise<ConnectResult> {
  const c = check(t, from, to, port);
  let last: ConnectResult | undefined;
  return t
    .until(`${describeCheck(c)} to connect`, 60, async () => {
      last = await t.env.net.canConnect({ ...c, timeoutMs: ALLOWED_MS });
      return last.outcome === 'connected' ? last : undefined;
    })
    .catch((err: Error) => {
      err.message += `; last attempt: ${last?.outcome} (${last?.detail})`;
      throw err;
    });
}

/**
 * Waits until the connection no longer goes through, then checks that it failed as a denied one
 * does: it timed out (its SYN dropped) or, where the network plugin rejects denied connections
 * (k3s's kube-router), was refused. Each case first shows the same destination port accepting an
 * allowed client, so a refusal here is the policy's, not a port nobody listens on.
 */
async function expectDenied(
  t: CaseContext,
  from: Peer,
  to: Target,
  port: number | string,
): Promise<ConnectResult> {
  const c = check(t, from, to, port);
  let last: ConnectResult | undefined;
  const r = await t
    .until(`${describeCheck(c)} to be denied`, 60, async () => {
      last = await t.env.net.canConnect({ ...c, timeoutMs: DENIED_MS });
      return last.outcome !== 'connected' ? last : undefined;
    })
    .catch((err: Error) => {
      err.message += `; last attempt: ${last?.outcome} (${last?.detail})`;
      throw err;
    });
  expect(['timed-out', 'refused'], `${describeCheck(c)}: ${r.detail}`).toContain(r.outcome);
  return r;
}

/** The smallest CIDR block holding both addresses (IPv4). */
function commonBlock(a: string, b: string): string {
  const n = (ip: string) => ip.split('.').reduce((x, p) => x * 256 + Number(p), 0);
  const x = n(a);
  const y = n(b);
  let bits = 32;
  while (bits > 0 && Math.floor(x / 2 ** (32 - bits)) !== Math.floor(y / 2 ** (32 - bits))) bits--;
  const base = Math.floor(x / 2 ** (32 - bits)) * 2 ** (32 - bits);
  const ip = [24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.');
  return `${ip}/${bits}`;
}

export const networkPolicyCases: ConformanceCase[] = [
  {
    area: 'NetworkPolicy',
    title:
      'a pod no policy selects accepts every connection; a default-deny ingress policy (empty podSelector, policyTypes [Ingress], no rules) isolates every pod of its namespace for ingress only',
    docs: `${POLICIES}#default-deny-all-ingress-traffic`,
    needs: 'networkPolicy',
    async run(t) {
      const peer = await peerNamespace(t);
      const p = await runPods(
        t,
        netexecPod(t, 'server', { app: 'server' }),
        netexecPod(t, 'client', { app: 'client' }),
        netexecPod(t, 'outside', { app: 'outside' }, { namespace: peer }),
      );
      await expectConnected(t, p['client']!, { pod: p['server']! }, 8080);
      await expectConnected(t, p['outside']!, { pod: p['server']! }, 8080);
      await t.apply(policy('default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }));
      await expectDenied(t, p['client']!, { pod: p['server']! }, 8080);
      await expectDenied(t, p['outside']!, { pod: p['server']! }, 8080);
      await expectDenied(t, p['server']!, { pod: p['client']! }, 8080);
      // Egress is not isolated: the pods still reach a pod of another namespace.
      await expectConnected(t, p['server']!, { pod: p['outside']! }, 8080);
    },
  },
  {
    area: 'NetworkPolicy',
    title:
      "ingress from a podSelector admits the pods with those labels in the policy's namespace only: a pod without them, and a pod with them in another namespace, are denied",
    docs: `${POLICIES}#behavior-of-to-and-from-selectors`,
    needs: 'networkPolicy',
    async run(t) {
      const peer = await peerNamespace(t);
      const p = await runPods(
        t,
        netexecPod(t, 'db', { role: 'db' }),
        netexecPod(t, 'frontend', { role: 'frontend' }),
        netexecPod(t, 'other', { role: 'other' }),
        netexecPod(t, 'frontend-elsewhere', { role: 'frontend' }, { namespace: peer }),
      );
      await t.apply(
        policy('allow-frontend', {
          podSelector: { matchLabels: { role: 'db' } },
          ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }],
        }),
      );
      await expectConnected(t, p['frontend']!, { pod: p['db']! }, 8080);
      await expectDenied(t, p['other']!, { pod: p['db']! }, 8080);
      await expectDenied(t, p['frontend-elsewhere']!, { pod: p['db']! }, 8080);
      // Only role=db is isolated: the others still accept everyone.
      await expectConnected(t, p['other']!, { pod: p['frontend']! }, 8080);
    },
  },
  {
    area: 'NetworkPolicy',
    title:
      'a namespaceSelector admits every pod of the namespaces with those labels, and no pod of the namespaces without them (the policy’s own included)',
    docs: `${POLICIES}#behavior-of-to-and-from-selectors`,
    needs: 'networkPolicy',
    async run(t) {
      const peer = await peerNamespace(t, { user: 'alice' });
      const p = await runPods(
        t,
        netexecPod(t, 'db', { role: 'db' }),
        netexecPod(t, 'local-client', { role: 'client' }),
        netexecPod(t, 'alice-client', { role: 'client' }, { namespace: peer }),
        netexecPod(t, 'alice-other', { role: 'other' }, { namespace: peer }),
      );
      await t.apply(
        policy('allow-alice', {
          podSelector: { matchLabels: { role: 'db' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { user: 'alice' } } }] }],
        }),
      );
      await expectConnected(t, p['alice-client']!, { pod: p['db']! }, 8080);
      await expectConnected(t, p['alice-other']!, { pod: p['db']! }, 8080);
      await expectDenied(t, p['local-client']!, { pod: p['db']! }, 8080);
    },
  },
  {
    area: 'NetworkPolicy',
    title:
      'namespaceSelector and podSelector in one from element admit only the pods matching both; in two elements they admit the pods matching either',
    docs: `${POLICIES}#behavior-of-to-and-from-selectors`,
    needs: 'networkPolicy',
    async run(t) {
      const peer = await peerNamespace(t, { user: 'alice' });
      const p = await runPods(
        t,
        netexecPod(t, 'db', { role: 'db' }),
        netexecPod(t, 'local-client', { role: 'client' }),
        netexecPod(t, 'local-other', { role: 'other' }),
        netexecPod(t, 'alice-client', { role: 'client' }, { namespace: peer }),
        netexecPod(t, 'alice-other', { role: 'other' }, { namespace: peer }),
      );
      const alice = { namespaceSelector: { matchLabels: { user: 'alice' } } };
      const client = { podSelector: { matchLabels: { role: 'client' } } };
      // The documentation's first example: one element, both selectors.
      await t.apply(
        policy('alice-clients', {
          podSelector: { matchLabels: { role: 'db' } },
          ingress: [{ from: [{ ...alice, ...client }] }],
        }),
      );
      await expectConnected(t, p['alice-client']!, { pod: p['db']! }, 8080);
      await expectDenied(t, p['alice-other']!, { pod: p['db']! }, 8080);
      await expectDenied(t, p['local-client']!, { pod: p['db']! }, 8080);
      // Its second: two elements.
      await t.apply(
        policy('alice-clients', {
          podSelector: { matchLabels: { role: 'db' } },
          ingress: [{ from: [alice, client] }],
        }),
      );
      await expectConnected(t, p['alice-other']!, { pod: p['db']! }, 8080);
      await expectConnected(t, p['local-client']!, { pod: p['db']! }, 8080);
      await expectConnected(t, p['alice-client']!, { pod: p['db']! }, 8080);
      await expectDenied(t, p['local-other']!, { pod: p['db']! }, 8080);
    },
  },
  {
    area: 'NetworkPolicy',
    title: 'an ipBlock admits the addresses of its CIDR except those of its except ranges',
    docs: `${POLICIES}#networkpolicy-resource`,
    needs: 'networkPolicy',
    async run(t) {
      const p = await runPods(
        t,
        netexecPod(t, 'db', { role: 'db' }),
        netexecPod(t, 'inside', { role: 'client' }),
        netexecPod(t, 'excepted', { role: 'client' }),
      );
      // Pod addresses are what the cluster gives; the block is made from them, as the upstream e2e
      // tests make theirs: the smallest CIDR holding both clients, with one of them excepted.
      const cidr = commonBlock(p['inside']!.ip, p['excepted']!.ip);
      await t.apply(
        policy('allow-block', {
          podSelector: { matchLabels: { role: 'db' } },
          ingress: [{ from: [{ ipBlock: { cidr, except: [`${p['excepted']!.ip}/32`] } }] }],
        }),
      );
      await expectConnected(t, p['inside']!, { pod: p['db']! }, 8080);
      await expectDenied(t, p['excepted']!, { pod: p['db']! }, 8080);
    },
  },
  {
    area: 'NetworkPolicy',
    title:
      "a named port in a rule is the destination pod's container port of that name: only that port admits, the pod's other port does not",
    docs: `${API}#NetworkPolicySpec`,
    needs: 'networkPolicy',
    async run(t) {
      const p = await runPods(
        t,
        netexecPod(
          t,
          'server',
          { app: 'server' },
          {
            ports: [
              { name: 'serve-http', port: 8080 },
              { name: 'serve-admin', port: 9090 },
            ],
          },
        ),
        netexecPod(t, 'client', { app: 'client' }),
      );
      await expectConnected(t, p['client']!, { pod: p['server']! }, 9090);
      await t.apply(
        policy('allow-http-port', {
          podSelector: { matchLabels: { app: 'server' } },
          ingress: [{ ports: [{ protocol: 'TCP', port: 'serve-http' }] }],
        }),
      );
      await expectConnected(t, p['client']!, { pod: p['server']! }, 'serve-http');
      await expectDenied(t, p['client']!, { pod: p['server']! }, 9090);
    },
  },
  {
    area: 'NetworkPolicy',
    title: 'port with endPort admits the whole range of ports and no port outside it',
    docs: `${POLICIES}#targeting-a-range-of-ports`,
    needs: 'networkPolicy',
    async run(t) {
      const p = await runPods(
        t,
        netexecPod(
          t,
          'server',
          { app: 'server' },
          {
            ports: [
              { name: 'low', port: 8080 },
              { name: 'high', port: 9090 },
            ],
          },
        ),
        netexecPod(t, 'client', { app: 'client' }),
      );
      await t.apply(
        policy('allow-range', {
          podSelector: { matchLabels: { app: 'server' } },
          ingress: [{ ports: [{ protocol: 'TCP', port: 9000, endPort: 9100 }] }],
        }),
      );
      await expectConnected(t, p['client']!, { pod: p['server']! }, 9090);
      await expectDenied(t, p['client']!, { pod: p['server']! }, 8080);
    },
  },
  {
    area: 'NetworkPolicy',
    title:
      'a default-deny egress policy (policyTypes [Egress], no rules) denies every connection from the selected pods while other pods still connect; an egress rule then admits its destinations',
    docs: `${POLICIES}#default-deny-all-egress-traffic`,
    needs: 'networkPolicy',
    async run(t) {
      const p = await runPods(
        t,
        netexecPod(t, 'server', { app: 'server' }),
        netexecPod(t, 'client', { app: 'client' }),
        netexecPod(t, 'bystander', { app: 'bystander' }),
      );
      await t.apply(
        policy('deny-client-egress', {
          podSelector: { matchLabels: { app: 'client' } },
          policyTypes: ['Egress'],
        }),
      );
      await expectDenied(t, p['client']!, { pod: p['server']! }, 8080);
      await expectConnected(t, p['bystander']!, { pod: p['server']! }, 8080);
      // Ingress is not isolated: the client itself still accepts connections.
      await expectConnected(t, p['bystander']!, { pod: p['client']! }, 8080);
      await t.apply(
        policy('allow-client-to-server', {
          podSelector: { matchLabels: { app: 'client' } },
          policyTypes: ['Egress'],
          egress: [{ to: [{ podSelector: { matchLabels: { app: 'server' } } }], ports: [{ port: 8080 }] }],
        }),
      );
      await expectConnected(t, p['client']!, { pod: p['server']! }, 8080);
      await expectDenied(t, p['client']!, { pod: p['bystander']! }, 8080);
    },
  },
  {
    area: 'NetworkPolicy',
    title:
      "a connection needs both ends to allow it: the source's egress rule does not admit it into a destination isolated for ingress, nor the destination's ingress rule out of a source isolated for egress",
    docs: `${POLICIES}#the-two-sorts-of-pod-isolation`,
    needs: 'networkPolicy',
    async run(t) {
      const p = await runPods(
        t,
        netexecPod(t, 'server', { app: 'server' }),
        netexecPod(t, 'client', { app: 'client' }),
      );
      await t.apply(
        policy('client-egress-to-server', {
          podSelector: { matchLabels: { app: 'client' } },
          policyTypes: ['Egress'],
          egress: [{ to: [{ podSelector: { matchLabels: { app: 'server' } } }] }],
        }),
        policy('server-deny-ingress', {
          podSelector: { matchLabels: { app: 'server' } },
          policyTypes: ['Ingress'],
        }),
      );
      await expectDenied(t, p['client']!, { pod: p['server']! }, 8080);
      await t.apply(
        policy('server-ingress-from-client', {
          podSelector: { matchLabels: { app: 'server' } },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
        }),
      );
      await expectConnected(t, p['client']!, { pod: p['server']! }, 8080);
      await deletePolicy(t, 'client-egress-to-server');
      await t.apply(
        policy('client-deny-egress', {
          podSelector: { matchLabels: { app: 'client' } },
          policyTypes: ['Egress'],
        }),
      );
      await expectDenied(t, p['client']!, { pod: p['server']! }, 8080);
    },
  },
  {
    area: 'NetworkPolicy',
    title:
      'policies are additive: a pod selected by two policies admits what either admits, and deleting one takes away only what it admitted',
    docs: `${POLICIES}#the-two-sorts-of-pod-isolation`,
    needs: 'networkPolicy',
    async run(t) {
      const p = await runPods(
        t,
        netexecPod(t, 'db', { role: 'db' }),
        netexecPod(t, 'api', { role: 'api' }),
        netexecPod(t, 'batch', { role: 'batch' }),
        netexecPod(t, 'other', { role: 'other' }),
      );
      const admit = (name: string, role: string) =>
        policy(name, {
          podSelector: { matchLabels: { role: 'db' } },
          ingress: [{ from: [{ podSelector: { matchLabels: { role } } }] }],
        });
      await t.apply(admit('allow-api', 'api'), admit('allow-batch', 'batch'));
      await expectConnected(t, p['api']!, { pod: p['db']! }, 8080);
      await expectConnected(t, p['batch']!, { pod: p['db']! }, 8080);
      await expectDenied(t, p['other']!, { pod: p['db']! }, 8080);
      await deletePolicy(t, 'allow-batch');
      await expectDenied(t, p['batch']!, { pod: p['db']! }, 8080);
      await expectConnected(t, p['api']!, { pod: p['db']! }, 8080);
    },
  },
  {
    area: 'NetworkPolicy',
    title:
      "policies are written for pods, not Services: a connection through a Service's cluster IP is admitted or denied as the same connection straight to the endpoint pod's address",
    docs: `${POLICIES}#what-you-can-t-do-with-network-policies-at-least-not-yet`,
    needs: 'networkPolicy',
    async run(t) {
      await t.apply({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'db' },
        spec: { selector: { role: 'db' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      });
      const p = await runPods(
        t,
        netexecPod(t, 'db', { role: 'db' }),
        netexecPod(t, 'frontend', { role: 'frontend' }),
        netexecPod(t, 'other', { role: 'other' }),
      );
      await t.until('the db pod in the Service’s Endpoints', 120, async () => {
        const ep = await t.get({ kind: 'Endpoints', name: 'db' });
        const ips = ((ep?.['subsets'] ?? []) as Array<{ addresses?: Array<{ ip: string }> }>).flatMap((s) =>
          (s.addresses ?? []).map((a) => a.ip),
        );
        return ips.includes(p['db']!.ip) ? true : undefined;
      });
      await t.apply(
        policy('allow-frontend', {
          podSelector: { matchLabels: { role: 'db' } },
          ingress: [
            { from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 8080 }] },
          ],
        }),
      );
      await expectConnected(t, p['frontend']!, { service: 'db' }, 80);
      await expectConnected(t, p['frontend']!, { pod: p['db']! }, 8080);
      await expectDenied(t, p['other']!, { service: 'db' }, 80);
      await expectDenied(t, p['other']!, { pod: p['db']! }, 8080);
    },
  },
  {
    area: 'NetworkPolicy',
    title:
      'a denied connection is dropped, not refused: it times out, where a port of the same pod that nothing listens on is refused at once',
    docs: `${POLICIES}#the-two-sorts-of-pod-isolation`,
    needs: 'networkPolicyDrop',
    async run(t) {
      const p = await runPods(
        t,
        netexecPod(t, 'server', { app: 'server' }),
        netexecPod(t, 'client', { app: 'client' }),
        netexecPod(t, 'other', { app: 'other' }),
      );
      await t.apply(
        policy('allow-client', {
          podSelector: { matchLabels: { app: 'server' } },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
        }),
      );
      await expectConnected(t, p['client']!, { pod: p['server']! }, 8080);
      // An admitted connection to a port nothing listens on: the pod answers with a reset.
      const closed = await t.env.net.canConnect({
        ...check(t, p['client']!, { pod: p['server']! }, 8181),
        timeoutMs: ALLOWED_MS,
      });
      expect(closed.outcome, closed.detail).toBe('refused');
      expect(closed.elapsedMs).toBeLessThan(ALLOWED_MS);
      const denied = await expectDenied(t, p['other']!, { pod: p['server']! }, 8080);
      expect(denied.outcome, denied.detail).toBe('timed-out');
      expect(denied.elapsedMs).toBeGreaterThanOrEqual(DENIED_MS - 50);
      // The same for a port nothing listens on: the SYN is dropped before anything could refuse it.
      const deniedClosed = await expectDenied(t, p['other']!, { pod: p['server']! }, 8181);
      expect(deniedClosed.outcome, deniedClosed.detail).toBe('timed-out');
    },
  },
];
