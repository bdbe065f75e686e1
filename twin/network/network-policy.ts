import { type Cidr, cidrContains, parseCidr } from '../../kube/cidr.ts';
import { type LabelSelector, matchesSelector } from '../../kube/labels.ts';
import type { KubeObject } from '../../kube/object.ts';

/**
 * NetworkPolicy semantics as a pure function over plain objects: who may open a connection to whom,
 * as https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the
 * networking.k8s.io/v1 API reference define it. No sockets here: the kernel rules
 * (network-policy-ruleset.ts) and the proxies both ask this module.
 */

export type PolicyType = 'Ingress' | 'Egress';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** One end of a connection as NetworkPolicy sees it. */
export type Peer =
  | { kind: 'pod'; pod: KubeObject }
  /**
   * A node, or a hostNetwork pod on it (its address is the node's). Without a name it is the node of
   * the pod at the other end, whose traffic is always allowed.
   */
  | { kind: 'node'; name?: string; ip?: string }
  /** An address outside the pod network: a load balancer, a database in the VPC, the internet. */
  | { kind: 'external'; ip: string };

/** What the policies are evaluated against: the cluster's NetworkPolicies, Pods and Namespaces. */
export interface NetworkPolicyView {
  policies: KubeObject[];
  pods: KubeObject[];
  namespaces: KubeObject[];
}

export interface Verdict {
  allowed: boolean;
  /** Which side denied and why, or what admitted the connection. */
  reason: string;
}

/** Ports a rule admits on one destination: without `from`, every port of the protocol. */
export interface PortRange {
  protocol: Protocol;
  from?: number;
  to?: number;
}

/** 'all' when the rule names no ports (every port, every protocol). */
export type RulePorts = 'all' | PortRange[];

export type PolicyPeer =
  | {
      kind: 'selector';
      /** Undefined: only the policy's own namespace. Present but empty: every namespace. */
      namespaceSelector?: LabelSelector;
      /** Undefined: every pod of the selected namespaces. */
      podSelector?: LabelSelector;
      policyNamespace: string;
    }
  | { kind: 'ipBlock'; cidr: Cidr; except: Cidr[] }
  /** A peer the API server would reject (empty, or ipBlock with a selector, or a CIDR it cannot parse): matches nothing. */
  | { kind: 'invalid'; problem: string };

export interface PolicyPort {
  protocol: Protocol;
  port?: number | string;
  endPort?: number;
}

export interface PolicyRule {
  /** 'any' when `from`/`to` is missing or empty: every source or destination. */
  peers: 'any' | PolicyPeer[];
  /** 'all' when `ports` is missing or empty. */
  ports: 'all' | PolicyPort[];
}

export interface NormalizedPolicy {
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  types: PolicyType[];
  ingress: PolicyRule[];
  egress: PolicyRule[];
}

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * policyTypes as the API server defaults it: Ingress always, Egress when the policy has egress
 * rules ("If no policyTypes are specified on a NetworkPolicy then by default Ingress will always be
 * set and Egress will be set if the NetworkPolicy has any egress rules").
 */
export function policyTypesOf(policy: KubeObject): PolicyType[] {
  const given: unknown = policy.spec?.policyTypes;
  if (Array.isArray(given) && given.length > 0)
    return (['Ingress', 'Egress'] as const).filter((t) => given.includes(t));
  const egress: unknown = policy.spec?.egress;
  return Array.isArray(egress) && egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

export function normalizePolicy(policy: KubeObject): NormalizedPolicy {
  const namespace = policy.metadata.namespace ?? 'default';
  const rules = (list: unknown, peersField: 'from' | 'to'): PolicyRule[] =>
    (Array.isArray(list) ? list : []).map((r: any) => ({
      peers: normalizePeers(r?.[peersField], namespace),
      ports: normalizePorts(r?.ports),
    }));
  return {
    namespace,
    name: policy.metadata.name,
    // spec.podSelector is not a pointer in the API: a missing one is the empty selector (all pods).
    podSelector: policy.spec?.podSelector ?? {},
    types: policyTypesOf(policy),
    ingress: rules(policy.spec?.ingress, 'from'),
    egress: rules(policy.spec?.egress, 'to'),
  };
}

function normalizePeers(list: unknown, policyNamespace: string): PolicyRule['peers'] {
  if (!Array.isArray(list) || list.length === 0) return 'any';
  return list.map((p: any): PolicyPeer => {
    const hasPod = p?.podSelector !== undefined && p?.podSelector !== null;
    const hasNs = p?.namespaceSelector !== undefined && p?.namespaceSelector !== null;
    if (p?.ipBlock) {
      if (hasPod || hasNs) return { kind: 'invalid', problem: 'ipBlock together with a selector' };
      const cidr = parseCidr(String(p.ipBlock.cidr ?? ''));
      if (!cidr) return { kind: 'invalid', problem: `ipBlock.cidr ${JSON.stringify(p.ipBlock.cidr)}` };
      const except: Cidr[] = [];
      for (const e of (p.ipBlock.except ?? []) as unknown[]) {
        const c = parseCidr(String(e));
        if (!c) return { kind: 'invalid', problem: `ipBlock.except ${JSON.stringify(e)}` };
        except.push(c);
      }
      return { kind: 'ipBlock', cidr, except };
    }
    if (!hasPod && !hasNs)
      return { kind: 'invalid', problem: 'a peer without podSelector, namespaceSelector or ipBlock' };
    return {
      kind: 'selector',
      ...(hasNs ? { namespaceSelector: p.namespaceSelector as LabelSelector } : {}),
      ...(hasPod ? { podSelector: p.podSelector as LabelSelector } : {}),
      policyNamespace,
    };
  });
}

function normalizePorts(list: unknown): PolicyRule['ports'] {
  if (!Array.isArray(list) || list.length === 0) return 'all';
  return list.map((p: any): PolicyPort => {
    const protocol: Protocol = p?.protocol === 'UDP' || p?.protocol === 'SCTP' ? p.protocol : 'TCP';
    return {
      protocol,
      ...(p?.port !== undefined && p?.port !== null ? { port: p.port } : {}),
      ...(typeof p?.endPort === 'number' ? { endPort: p.endPort } : {}),
    };
  });
}

/** Whether `pod` is on the pod network (a hostNetwork pod has its node's address and counts as the node). */
export function onPodNetwork(pod: KubeObject): boolean {
  return pod.spec?.hostNetwork !== true;
}

function podIp(pod: KubeObject): string | undefined {
  return pod.status?.podIP || undefined;
}

function describePod(pod: KubeObject): string {
  return `Pod ${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}

function describePeer(p: Peer): string {
  if (p.kind === 'pod') return describePod(p.pod);
  if (p.kind === 'node') return p.name ? `node ${p.name}${p.ip ? ` (${p.ip})` : ''}` : 'the node';
  return p.ip;
}

function samePod(a: KubeObject, b: KubeObject): boolean {
  if (a.metadata.uid && b.metadata.uid) return a.metadata.uid === b.metadata.uid;
  return a.metadata.namespace === b.metadata.namespace && a.metadata.name === b.metadata.name;
}

/**
 * The policies of one cluster, indexed for evaluation: which policies apply to a pod in each
 * direction, which pods a peer selects, which ports a rule admits on a destination.
 */
export class NetworkPolicyIndex {
  readonly policies: NormalizedPolicy[];
  readonly pods: KubeObject[];
  /** Problems the API server would have rejected the policy for ("<ns>/<name>: …"). */
  readonly problems: string[] = [];
  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  private readonly byNamespace = new Map<string, NormalizedPolicy[]>();
  private readonly byIp = new Map<string, KubeObject>();

  constructor(view: NetworkPolicyView) {
    for (const ns of view.namespaces) {
      // The control plane sets kubernetes.io/metadata.name on every namespace, immutably.
      this.namespaceLabels.set(ns.metadata.name, {
        ...(ns.metadata.labels ?? {}),
        [NAMESPACE_NAME_LABEL]: ns.metadata.name,
      });
    }
    this.policies = view.policies.map(normalizePolicy);
    for (const p of this.policies) {
      const list = this.byNamespace.get(p.namespace) ?? [];
      list.push(p);
      this.byNamespace.set(p.namespace, list);
      for (const rule of [...p.ingress, ...p.egress]) {
        if (rule.peers === 'any') continue;
        for (const peer of rule.peers)
          if (peer.kind === 'invalid') this.problems.push(`${p.namespace}/${p.name}: ${peer.problem}`);
      }
    }
    this.pods = view.pods;
    for (const pod of view.pods) {
      const ip = podIp(pod);
      if (ip && onPodNetwork(pod)) this.byIp.set(ip, pod);
    }
  }

  labelsOfNamespace(name: string): Record<string, string> {
    return this.namespaceLabels.get(name) ?? { [NAMESPACE_NAME_LABEL]: name };
  }

  /** The pod-network pod that has this address. */
  podByIp(ip: string): KubeObject | undefined {
    return this.byIp.get(ip);
  }

  /**
   * The policies that apply to a pod for a direction: they select it (spec.podSelector, within the
   * policy's namespace) and have the direction in their policyTypes. None: the pod is not isolated.
   */
  applying(pod: KubeObject, direction: PolicyType): NormalizedPolicy[] {
    if (!onPodNetwork(pod)) return [];
    const ns = pod.metadata.namespace ?? 'default';
    return (this.byNamespace.get(ns) ?? []).filter(
      (p) => p.types.includes(direction) && matchesSelector(p.podSelector, pod.metadata.labels ?? {}),
    );
  }

  isolated(pod: KubeObject, direction: PolicyType): boolean {
    return this.applying(pod, direction).length > 0;
  }

  /** Whether a rule's peer selects the other end of a connection. */
  peerMatches(peer: PolicyPeer, other: Peer): boolean {
    switch (peer.kind) {
      case 'invalid':
        return false;
      case 'ipBlock': {
        const ip = other.kind === 'pod' ? podIp(other.pod) : other.ip;
        if (!ip || !cidrContains(peer.cidr, ip)) return false;
        return !peer.except.some((e) => cidrContains(e, ip));
      }
      case 'selector': {
        // hostNetwork pods are ignored by selectors; callers pass them as nodes.
        if (other.kind !== 'pod' || !onPodNetwork(other.pod)) return false;
        return this.selects(peer, other.pod);
      }
    }
  }

  /** Whether a selector peer selects a pod-network pod. */
  selects(peer: Extract<PolicyPeer, { kind: 'selector' }>, pod: KubeObject): boolean {
    const ns = pod.metadata.namespace ?? 'default';
    if (peer.namespaceSelector === undefined) {
      if (ns !== peer.policyNamespace) return false;
    } else if (!matchesSelector(peer.namespaceSelector, this.labelsOfNamespace(ns))) return false;
    return peer.podSelector === undefined || matchesSelector(peer.podSelector, pod.metadata.labels ?? {});
  }

  /** The pod-network pods a selector peer selects. */
  selectedPods(peer: Extract<PolicyPeer, { kind: 'selector' }>): KubeObject[] {
    return this.pods.filter((p) => onPodNetwork(p) && this.selects(peer, p));
  }

  /**
   * The ports a rule admits on a destination. Named ports resolve against the destination pod's
   * container ports of the same protocol; on any other destination a named port matches nothing.
   * endPort makes [port, endPort] a range (it must be >= port and needs a numeric port).
   */
  resolvePorts(ports: PolicyRule['ports'], destination: Peer): RulePorts {
    if (ports === 'all') return 'all';
    const out: PortRange[] = [];
    for (const p of ports) {
      if (p.port === undefined) out.push({ protocol: p.protocol });
      else if (typeof p.port === 'number') {
        const to = p.endPort !== undefined && p.endPort >= p.port ? p.endPort : p.port;
        out.push({ protocol: p.protocol, from: p.port, to });
      } else if (destination.kind === 'pod') {
        const n = namedPort(destination.pod, p.port, p.protocol);
        if (n !== undefined) out.push({ protocol: p.protocol, from: n, to: n });
      }
    }
    return out;
  }

  /**
   * Whether a connection from `from` to `to` on `port`/`protocol` is allowed: the source's egress
   * policies and the destination's ingress policies must both allow it. A pod can always reach
   * itself, and traffic to and from a pod's own node is always allowed.
   */
  evaluate(fromPeer: Peer, toPeer: Peer, port: number, protocol: Protocol = 'TCP'): Verdict {
    const from = asNetworkPeer(fromPeer);
    const to = asNetworkPeer(toPeer);
    const what = `${describePeer(from)} → ${describePeer(to)} ${protocol} ${port}`;
    if (from.kind === 'pod' && to.kind === 'pod' && samePod(from.pod, to.pod))
      return { allowed: true, reason: `${what}: allowed (a pod cannot block access to itself)` };
    const admitted: string[] = [];
    if (from.kind === 'pod') {
      const side = this.side(from.pod, 'Egress', to, to, port, protocol);
      if (!side.allowed) return { allowed: false, reason: `${what}: denied by egress: ${side.why}` };
      admitted.push(side.why);
    }
    if (to.kind === 'pod') {
      const side = this.side(to.pod, 'Ingress', from, to, port, protocol);
      if (!side.allowed) return { allowed: false, reason: `${what}: denied by ingress: ${side.why}` };
      admitted.push(side.why);
    }
    return {
      allowed: true,
      reason: `${what}: allowed (${admitted.length ? admitted.join('; ') : 'no pod-network pod at either end'})`,
    };
  }

  /** One direction of the check: `subject` is the isolated pod, `other` the far end, `destination` where the ports resolve. */
  private side(
    subject: KubeObject,
    direction: PolicyType,
    other: Peer,
    destination: Peer,
    port: number,
    protocol: Protocol,
  ): { allowed: boolean; why: string } {
    const verb = direction === 'Ingress' ? 'ingress to' : 'egress from';
    if (other.kind === 'node' && (other.name === undefined || other.name === subject.spec?.nodeName))
      return { allowed: true, why: `${verb} ${describePod(subject)}: its own node is always allowed` };
    const policies = this.applying(subject, direction);
    if (policies.length === 0)
      return { allowed: true, why: `${describePod(subject)} is not isolated for ${direction.toLowerCase()}` };
    for (const policy of policies) {
      const rules = direction === 'Ingress' ? policy.ingress : policy.egress;
      for (const rule of rules) {
        if (rule.peers !== 'any' && !rule.peers.some((p) => this.peerMatches(p, other))) continue;
        if (!portsMatch(this.resolvePorts(rule.ports, destination), port, protocol)) continue;
        return {
          allowed: true,
          why: `${verb} ${describePod(subject)} admitted by NetworkPolicy ${policy.namespace}/${policy.name}`,
        };
      }
    }
    return {
      allowed: false,
      why: `${describePod(subject)} is isolated for ${direction.toLowerCase()} by NetworkPolicy ${policies.map((p) => `${p.namespace}/${p.name}`).join(', ')} and no rule admits ${describePeer(other)} on ${protocol} ${port}`,
    };
  }
}

/** A hostNetwork pod is its node for NetworkPolicy (the most common implementation, and the twin's). */
function asNetworkPeer(p: Peer): Peer {
  if (p.kind === 'pod' && !onPodNetwork(p.pod)) {
    const ip = p.pod.status?.hostIP ?? p.pod.status?.podIP;
    return {
      kind: 'node',
      ...(p.pod.spec?.nodeName ? { name: p.pod.spec.nodeName } : {}),
      ...(ip ? { ip } : {}),
    };
  }
  return p;
}

/** The number of a named container port of `protocol` (default TCP) on a pod. */
export function namedPort(pod: KubeObject, name: string, protocol: Protocol): number | undefined {
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])] as any[]) {
    for (const p of (c.ports ?? []) as any[]) {
      if (p.name === name && (p.protocol ?? 'TCP') === protocol && typeof p.containerPort === 'number')
        return p.containerPort;
    }
  }
  return undefined;
}

export function portsMatch(ports: RulePorts, port: number, protocol: Protocol): boolean {
  if (ports === 'all') return true;
  return ports.some(
    (r) => r.protocol === protocol && (r.from === undefined || (port >= r.from && port <= (r.to ?? r.from))),
  );
}

/** One-shot evaluation: builds the index of `view` and evaluates one connection. */
export function evaluateConnection(
  view: NetworkPolicyView,
  connection: { from: Peer; to: Peer; port: number; protocol?: Protocol },
): Verdict {
  return new NetworkPolicyIndex(view).evaluate(
    connection.from,
    connection.to,
    connection.port,
    connection.protocol,
  );
}
