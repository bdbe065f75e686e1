import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import {
  evaluateConnection,
  NetworkPolicyIndex,
  type Peer,
  type Protocol,
  policyTypesOf,
} from '../../../twin/network/network-policy.ts';

// Every case cites the documentation it checks:
// [concept] https://kubernetes.io/docs/concepts/services-networking/network-policies/
// [api] https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/

function ns(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

function pod(
  namespace: string,
  name: string,
  ip: string,
  labels: Record<string, string>,
  ports: Array<{ name?: string; containerPort: number; protocol?: string }> = [],
  extra: { node?: string; hostNetwork?: boolean } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels, uid: `${namespace}-${name}` },
    spec: {
      nodeName: extra.node ?? 'node-1',
      ...(extra.hostNetwork ? { hostNetwork: true } : {}),
      containers: [{ name: 'main', image: 'x', ports }],
    },
    status: { podIP: ip, hostIP: extra.hostNetwork ? ip : '10.0.1.10' },
  };
}

function policy(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec };
}

const namespaces = [
  ns('production', { team: 'shop' }),
  ns('data', { tier: 'data' }),
  ns('monitoring', { purpose: 'monitoring' }),
  ns('other'),
  ns('kube-system'),
];
const web = pod('production', 'web', '127.10.0.2', { app: 'web', role: 'frontend' }, [
  { name: 'http', containerPort: 8080 },
]);
const api = pod('production', 'api', '127.10.0.3', { app: 'api', tier: 'app' }, [
  { name: 'http', containerPort: 8080 },
  { name: 'metrics', containerPort: 9090 },
]);
const db = pod(
  'data',
  'db',
  '127.10.0.4',
  { app: 'db', role: 'db' },
  [
    { name: 'postgres', containerPort: 5432 },
    { name: 'stats', containerPort: 9187, protocol: 'UDP' },
  ],
  { node: 'node-2' },
);
const cache = pod('data', 'cache', '127.10.0.5', { app: 'cache' }, [{ name: 'redis', containerPort: 6379 }], {
  node: 'node-2',
});
const prom = pod('monitoring', 'prom', '127.10.0.6', { app: 'prometheus' });
const intruder = pod('other', 'intruder', '127.10.0.7', { app: 'web' });
const agent = pod('kube-system', 'agent', '10.0.1.10', { app: 'agent' }, [], { hostNetwork: true });
const pods = [web, api, db, cache, prom, intruder, agent];

const P = (p: KubeObject): Peer => ({ kind: 'pod', pod: p });
const external = (ip: string): Peer => ({ kind: 'external', ip });

const denyIngress = (namespace: string) =>
  policy(namespace, 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });
const denyEgress = (namespace: string) =>
  policy(namespace, 'default-deny-egress', { podSelector: {}, policyTypes: ['Egress'] });

interface Case {
  doc: string;
  policies: KubeObject[];
  from: Peer;
  to: Peer;
  port: number;
  protocol?: Protocol;
  allowed: boolean;
}

function check(c: Case) {
  const verdict = evaluateConnection(
    { policies: c.policies, pods, namespaces },
    { from: c.from, to: c.to, port: c.port, ...(c.protocol ? { protocol: c.protocol } : {}) },
  );
  expect(verdict.allowed, verdict.reason).toBe(c.allowed);
  return verdict;
}

describe('NetworkPolicy semantics (pure)', () => {
  describe('isolation and defaults', () => {
    it.each<Case>([
      {
        doc: '[concept] by default a pod is non-isolated for ingress and egress: all connections are allowed',
        policies: [],
        from: P(intruder),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] default deny all ingress: a policy selecting all pods with no ingress rules',
        policies: [denyIngress('data')],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[concept] default deny ingress does not change egress isolation of the same pods',
        policies: [denyIngress('data')],
        from: P(db),
        to: P(web),
        port: 8080,
        allowed: true,
      },
      {
        doc: '[concept] default deny ingress also isolates pods of the same namespace from each other',
        policies: [denyIngress('data')],
        from: P(cache),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[concept] default deny all egress: the selected pods may open no connection',
        policies: [denyEgress('production')],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[concept] default deny egress in one namespace leaves other namespaces alone',
        policies: [denyEgress('production')],
        from: P(prom),
        to: P(web),
        port: 8080,
        allowed: true,
      },
      {
        doc: '[concept] allow all ingress (an empty rule) wins over a default deny: policies are additive',
        policies: [
          denyIngress('data'),
          policy('data', 'allow-all', { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] }),
        ],
        from: P(intruder),
        to: P(db),
        port: 1234,
        allowed: true,
      },
      {
        doc: '[concept] a pod cannot block access to itself',
        policies: [denyIngress('data'), denyEgress('data')],
        from: P(db),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] a pod not selected by any policy keeps accepting all traffic',
        policies: [policy('data', 'only-db', { podSelector: { matchLabels: { app: 'db' } } })],
        from: P(intruder),
        to: P(cache),
        port: 6379,
        allowed: true,
      },
    ])('$doc', (c) => {
      check(c);
    });
  });

  describe('policyTypes defaulting', () => {
    it('[api] Ingress is always set; Egress only when the policy has egress rules', () => {
      expect(policyTypesOf(policy('a', 'p', { podSelector: {} }))).toEqual(['Ingress']);
      expect(policyTypesOf(policy('a', 'p', { podSelector: {}, egress: [] }))).toEqual(['Ingress']);
      expect(policyTypesOf(policy('a', 'p', { podSelector: {}, egress: [{}] }))).toEqual([
        'Ingress',
        'Egress',
      ]);
      expect(
        policyTypesOf(policy('a', 'p', { podSelector: {}, policyTypes: ['Egress'], ingress: [{}] })),
      ).toEqual(['Egress']);
    });

    const egressOnlyRules = policy('production', 'api-to-db', {
      podSelector: { matchLabels: { app: 'api' } },
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { tier: 'data' } },
              podSelector: { matchLabels: { app: 'db' } },
            },
          ],
        },
      ],
    });
    it.each<Case>([
      {
        doc: '[concept] without policyTypes, a policy with egress rules isolates for egress: api → cache is denied',
        policies: [egressOnlyRules],
        from: P(api),
        to: P(cache),
        port: 6379,
        allowed: false,
      },
      {
        doc: '[concept] … and its egress rule admits api → db',
        policies: [egressOnlyRules],
        from: P(api),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] … and Ingress is always set, so the same policy (no ingress rules) denies web → api',
        policies: [egressOnlyRules],
        from: P(web),
        to: P(api),
        port: 8080,
        allowed: false,
      },
      {
        doc: '[concept] a policy without egress rules and without policyTypes does not isolate for egress',
        policies: [policy('production', 'ing', { podSelector: { matchLabels: { app: 'api' } }, egress: [] })],
        from: P(api),
        to: P(cache),
        port: 6379,
        allowed: true,
      },
    ])('$doc', (c) => {
      check(c);
    });
  });

  describe('both ends must allow', () => {
    const webEgressToApi = policy('production', 'web-egress', {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'api' } } }] }],
    });
    const dbFromWeb = policy('data', 'db-from-web', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'shop' } } }] }],
    });
    it.each<Case>([
      {
        doc: '[concept] egress of the source allows and the destination is not isolated: allowed',
        policies: [webEgressToApi],
        from: P(web),
        to: P(api),
        port: 8080,
        allowed: true,
      },
      {
        doc: '[concept] the destination admits the source but the source egress does not allow it: denied',
        policies: [webEgressToApi, dbFromWeb],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[concept] the source is not isolated and the destination admits it: allowed',
        policies: [dbFromWeb],
        from: P(api),
        to: P(db),
        port: 5432,
        allowed: true,
      },
    ])('$doc', (c) => {
      check(c);
    });

    it('the verdict names the side and the policies that deny', () => {
      const v = check({
        doc: '',
        policies: [webEgressToApi, dbFromWeb],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: false,
      });
      expect(v.reason).toBe(
        'Pod production/web → Pod data/db TCP 5432: denied by egress: Pod production/web is isolated for egress by NetworkPolicy production/web-egress and no rule admits Pod data/db on TCP 5432',
      );
    });
  });

  describe('peers: podSelector, namespaceSelector, both, ipBlock', () => {
    const from = (peers: unknown[]) =>
      policy('data', 'db-ingress', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: peers }],
      });
    it.each<Case>([
      {
        doc: "[concept] podSelector alone selects pods in the policy's own namespace",
        policies: [from([{ podSelector: { matchLabels: { app: 'cache' } } }])],
        from: P(cache),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] podSelector alone: a pod with matching labels in another namespace is not selected',
        policies: [from([{ podSelector: { matchLabels: { app: 'web' } } }])],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[concept] namespaceSelector alone selects all pods of the matching namespaces',
        policies: [from([{ namespaceSelector: { matchLabels: { purpose: 'monitoring' } } }])],
        from: P(prom),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] namespaceSelector alone: pods of other namespaces are not selected',
        policies: [from([{ namespaceSelector: { matchLabels: { purpose: 'monitoring' } } }])],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[concept] namespaceSelector and podSelector in one entry: pods with the labels in those namespaces',
        policies: [
          from([
            {
              namespaceSelector: { matchLabels: { team: 'shop' } },
              podSelector: { matchLabels: { app: 'web' } },
            },
          ]),
        ],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] … another pod of the same namespace is not selected',
        policies: [
          from([
            {
              namespaceSelector: { matchLabels: { team: 'shop' } },
              podSelector: { matchLabels: { app: 'web' } },
            },
          ]),
        ],
        from: P(api),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[concept] … a pod with the labels in another namespace is not selected',
        policies: [
          from([
            {
              namespaceSelector: { matchLabels: { team: 'shop' } },
              podSelector: { matchLabels: { app: 'web' } },
            },
          ]),
        ],
        from: P(intruder),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[concept] two entries (namespaceSelector OR podSelector): any pod of the namespace is admitted',
        policies: [
          from([
            { namespaceSelector: { matchLabels: { team: 'shop' } } },
            { podSelector: { matchLabels: { app: 'web' } } },
          ]),
        ],
        from: P(api),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[api] namespaceSelector present but empty selects all namespaces',
        policies: [from([{ namespaceSelector: {} }])],
        from: P(intruder),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: "[api] podSelector present but empty selects all pods of the policy's namespace",
        policies: [from([{ podSelector: {} }])],
        from: P(cache),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: "[api] podSelector present but empty does not reach beyond the policy's namespace",
        policies: [from([{ podSelector: {} }])],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[concept] the control plane sets kubernetes.io/metadata.name on every namespace: target a namespace by name',
        policies: [
          from([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } } }]),
        ],
        from: P(intruder),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[api] matchExpressions: NotIn excludes a namespace by its automatic name label',
        policies: [
          from([
            {
              namespaceSelector: {
                matchExpressions: [
                  { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['other'] },
                ],
              },
            },
          ]),
        ],
        from: P(intruder),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[concept] ipBlock example: 172.17.0.0/16 except 172.17.1.0/24 admits 172.17.0.9',
        policies: [from([{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }])],
        from: external('172.17.0.9'),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] … and 172.17.2.200',
        policies: [from([{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }])],
        from: external('172.17.2.200'),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] … but not 172.17.1.5 (in except)',
        policies: [from([{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }])],
        from: external('172.17.1.5'),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[concept] … nor an address outside the block',
        policies: [from([{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }])],
        from: external('10.0.1.4'),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: "[concept] ipBlock matches a pod's address too (pod IPs are not excluded from ipBlocks)",
        policies: [from([{ ipBlock: { cidr: '127.10.0.2/32' } }])],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[api] an empty peer is invalid (the API server rejects it) and matches nothing',
        policies: [from([{}])],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: '[api] from missing or empty: the rule matches all sources',
        policies: [
          policy('data', 'any', { podSelector: {}, ingress: [{ from: [], ports: [{ port: 5432 }] }] }),
        ],
        from: external('8.8.8.8'),
        to: P(db),
        port: 5432,
        allowed: true,
      },
    ])('$doc', (c) => {
      check(c);
    });

    it('reports what the API server would reject', () => {
      const index = new NetworkPolicyIndex({
        policies: [
          from([{}, { ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }, { ipBlock: { cidr: 'nope' } }]),
        ],
        pods,
        namespaces,
      });
      expect(index.problems).toEqual([
        'data/db-ingress: a peer without podSelector, namespaceSelector or ipBlock',
        'data/db-ingress: ipBlock together with a selector',
        'data/db-ingress: ipBlock.cidr "nope"',
      ]);
    });
  });

  describe('ports: numbers, names, ranges, protocols', () => {
    const ports = (list: unknown[]) =>
      policy('data', 'db-ports', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ ports: list }] });
    const egressPorts = (list: unknown[], to: unknown[] = []) =>
      policy('production', 'api-egress', {
        podSelector: { matchLabels: { app: 'api' } },
        policyTypes: ['Egress'],
        egress: [{ to, ports: list }],
      });
    it.each<Case>([
      {
        doc: '[api] protocol defaults to TCP: port 5432 admits TCP 5432',
        policies: [ports([{ port: 5432 }])],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[api] … and not UDP 5432',
        policies: [ports([{ port: 5432 }])],
        from: P(web),
        to: P(db),
        port: 5432,
        protocol: 'UDP',
        allowed: false,
      },
      {
        doc: '[api] a port entry without port matches every port of its protocol',
        policies: [ports([{ protocol: 'UDP' }])],
        from: P(web),
        to: P(db),
        port: 40000,
        protocol: 'UDP',
        allowed: true,
      },
      {
        doc: '[api] … but not another protocol',
        policies: [ports([{ protocol: 'UDP' }])],
        from: P(web),
        to: P(db),
        port: 40000,
        allowed: false,
      },
      {
        doc: "[api] a named port resolves against the destination pod's container ports",
        policies: [ports([{ port: 'postgres' }])],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[api] … and admits only that port',
        policies: [ports([{ port: 'postgres' }])],
        from: P(web),
        to: P(db),
        port: 5433,
        allowed: false,
      },
      {
        doc: '[api] a named port matches only a container port of the same protocol (stats is UDP)',
        policies: [ports([{ port: 'stats' }])],
        from: P(web),
        to: P(db),
        port: 9187,
        allowed: false,
      },
      {
        doc: '[api] … with protocol: UDP it resolves',
        policies: [ports([{ port: 'stats', protocol: 'UDP' }])],
        from: P(web),
        to: P(db),
        port: 9187,
        protocol: 'UDP',
        allowed: true,
      },
      {
        doc: "[api] egress: a named port resolves against the destination (cache's redis → 6379)",
        policies: [egressPorts([{ port: 'redis' }])],
        from: P(api),
        to: P(cache),
        port: 6379,
        allowed: true,
      },
      {
        doc: '[api] egress: a destination without a port of that name is not admitted on the number',
        policies: [egressPorts([{ port: 'redis' }])],
        from: P(api),
        to: P(db),
        port: 6379,
        allowed: false,
      },
      {
        doc: '[api] egress: a named port never matches an address outside the pod network',
        policies: [egressPorts([{ port: 'redis' }], [{ ipBlock: { cidr: '0.0.0.0/0' } }])],
        from: P(api),
        to: external('10.0.20.5'),
        port: 6379,
        allowed: false,
      },
      {
        doc: '[concept] endPort: 32000–32768 to 10.0.0.0/24 admits 32000',
        policies: [egressPorts([{ port: 32000, endPort: 32768 }], [{ ipBlock: { cidr: '10.0.0.0/24' } }])],
        from: P(api),
        to: external('10.0.0.7'),
        port: 32000,
        allowed: true,
      },
      {
        doc: '[concept] … and 32768 (inclusive)',
        policies: [egressPorts([{ port: 32000, endPort: 32768 }], [{ ipBlock: { cidr: '10.0.0.0/24' } }])],
        from: P(api),
        to: external('10.0.0.7'),
        port: 32768,
        allowed: true,
      },
      {
        doc: '[concept] … but not 32769',
        policies: [egressPorts([{ port: 32000, endPort: 32768 }], [{ ipBlock: { cidr: '10.0.0.0/24' } }])],
        from: P(api),
        to: external('10.0.0.7'),
        port: 32769,
        allowed: false,
      },
      {
        doc: '[api] ports missing or empty: the rule matches all ports',
        policies: [
          policy('data', 'db-any-port', {
            podSelector: {},
            ingress: [{ from: [{ podSelector: {} }], ports: [] }],
          }),
        ],
        from: P(cache),
        to: P(db),
        port: 1,
        allowed: true,
      },
      {
        doc: '[api] several port entries: traffic matching any one of them is admitted',
        policies: [ports([{ port: 80 }, { port: 'postgres' }])],
        from: P(web),
        to: P(db),
        port: 5432,
        allowed: true,
      },
    ])('$doc', (c) => {
      check(c);
    });
  });

  describe('the node and hostNetwork pods', () => {
    it.each<Case>([
      {
        doc: "[concept] traffic from the pod's own node is always allowed (kubelet probes), even under default deny",
        policies: [denyIngress('data')],
        from: { kind: 'node', name: 'node-2', ip: '10.0.2.10' },
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] the node of the other end (the twin host) is always allowed',
        policies: [denyIngress('data')],
        from: { kind: 'node' },
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] another node is subject to the policy like any address',
        policies: [denyIngress('data')],
        from: { kind: 'node', name: 'node-1', ip: '10.0.1.10' },
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: "[concept] … and admitted by an ipBlock with the node's address",
        policies: [
          denyIngress('data'),
          policy('data', 'nodes', {
            podSelector: {},
            ingress: [{ from: [{ ipBlock: { cidr: '10.0.1.0/24' } }] }],
          }),
        ],
        from: { kind: 'node', name: 'node-1', ip: '10.0.1.10' },
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] traffic to its own node is always allowed under default deny egress',
        policies: [denyEgress('production')],
        from: P(web),
        to: { kind: 'node', name: 'node-1', ip: '10.0.1.10' },
        port: 10250,
        allowed: true,
      },
      {
        doc: '[concept] … but not to another node',
        policies: [denyEgress('production')],
        from: P(web),
        to: { kind: 'node', name: 'node-2', ip: '10.0.2.10' },
        port: 10250,
        allowed: false,
      },
      {
        doc: '[concept] hostNetwork pods are ignored by namespaceSelector: the agent in kube-system is its node',
        policies: [
          policy('data', 'from-kube-system', {
            podSelector: {},
            ingress: [
              {
                from: [
                  { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } },
                ],
              },
            ],
          }),
        ],
        from: P(agent),
        to: P(db),
        port: 5432,
        allowed: false,
      },
      {
        doc: "[concept] a hostNetwork pod's connections are node connections: an ipBlock with the node address admits it",
        policies: [
          policy('data', 'from-node', {
            podSelector: {},
            ingress: [{ from: [{ ipBlock: { cidr: '10.0.1.10/32' } }] }],
          }),
        ],
        from: P(agent),
        to: P(db),
        port: 5432,
        allowed: true,
      },
      {
        doc: '[concept] a hostNetwork pod reaches pods of its own node whatever the policies (it is that node)',
        policies: [denyIngress('production')],
        from: P(agent),
        to: P(web),
        port: 8080,
        allowed: true,
      },
      {
        doc: '[concept] a policy selecting a hostNetwork pod (spec.podSelector) does not isolate it',
        policies: [denyIngress('kube-system')],
        from: P(db),
        to: P(agent),
        port: 9100,
        allowed: true,
      },
    ])('$doc', (c) => {
      check(c);
    });
  });
});
