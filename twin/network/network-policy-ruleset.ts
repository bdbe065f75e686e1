import { cidrContains } from '../../kube/cidr.ts';
import type { KubeObject } from '../../kube/object.ts';
import {
  type NetworkPolicyIndex,
  onPodNetwork,
  type Peer,
  type PolicyPeer,
  type PolicyRule,
  type RulePorts,
} from './network-policy.ts';

/** The address the host (every node of the twin) connects from when a socket is not bound. */
export const HOST_ADDRESS = '127.0.0.1';

/**
 * An address the twin itself connects from that stands for something it does not run as a process:
 * outside the pod network (the ALB in its subnets), or a pod of the cluster's own (Traefik on k3s).
 */
export interface PresentedActor {
  /** The loopback address the twin binds. */
  address: string;
  /** What NetworkPolicy sees: e.g. the ALB's address in its public subnet. */
  peer: Peer;
}

/** One port of a Service IP and the endpoints behind it (the pods the proxy forwards to). */
export interface ServicePortTarget {
  ip: string;
  port: number;
  endpoints: Array<{ pod: KubeObject; port: number }>;
}

export interface RulesetInput {
  /** The twin's nftables table (one per address block: infra_twin_<block>). */
  table: string;
  index: NetworkPolicyIndex;
  /** Whether an address belongs to this twin (its address block): only those are keys of the rules. */
  ours(ip: string): boolean;
  actors: PresentedActor[];
  services: ServicePortTarget[];
}

/**
 * The nftables ruleset that makes the kernel enforce the policies on the loopback network: a new TCP
 * connection (its first SYN) that the policies deny is dropped, so the client's connect times out as
 * it does on a cluster; established traffic is never looked at.
 *
 * - egress: one chain per egress-isolated pod of this twin (jumped to by source address) that
 *   returns for what some rule admits and drops the rest;
 * - ingress: one chain per ingress-isolated pod (by destination address), accepting what some rule
 *   admits and dropping the rest;
 * - Service IPs: the proxy forwards from the client's own address (so the endpoint leg meets the two
 *   chains above), and a connection to a Service port is dropped up front when the policies deny the
 *   client every ready endpoint, as the DNATed SYN would be dropped on a cluster.
 *
 * Twin simplification: only TCP is enforced in the kernel (live pods use no UDP or SCTP on the twin);
 * the host address is every node at once, so its traffic is always allowed; only first SYNs are
 * looked at, so connections established before a policy change keep flowing.
 */
export function compileRuleset(input: RulesetInput): string {
  const { index, ours } = input;
  const podsHere = index.pods.filter((p) => onPodNetwork(p) && p.status?.podIP && ours(p.status.podIP));
  const chains: string[] = [];
  const svcMap: string[] = [];
  const egressMap: string[] = [];
  const ingressMap: string[] = [];

  for (const [ip, rules] of serviceDrops(input, podsHere)) {
    const name = `svc_${chainSuffix(ip)}`;
    svcMap.push(`${ip} : goto ${name}`);
    chains.push(chain(name, rules));
  }
  for (const pod of podsHere) {
    const ip: string = pod.status.podIP;
    if (index.isolated(pod, 'Egress')) {
      const name = `eg_${chainSuffix(ip)}`;
      egressMap.push(`${ip} : jump ${name}`);
      chains.push(chain(name, [`ip daddr ${ip} return`, ...egressRules(input, pod), 'drop']));
    }
    if (index.isolated(pod, 'Ingress')) {
      const name = `in_${chainSuffix(ip)}`;
      ingressMap.push(`${ip} : goto ${name}`);
      chains.push(chain(name, [`ip saddr ${ip} accept`, ...ingressRules(input, pod), 'drop']));
    }
  }

  const output = [
    'type filter hook output priority filter; policy accept;',
    'meta l4proto != tcp accept',
    'tcp flags & (syn | ack) != syn accept',
    `ip saddr ${HOST_ADDRESS} accept`,
    `ip daddr ${HOST_ADDRESS} accept`,
    ...(svcMap.length ? [`ip daddr vmap { ${svcMap.join(', ')} }`] : []),
    ...(egressMap.length ? [`ip saddr vmap { ${egressMap.join(', ')} }`] : []),
    ...(ingressMap.length ? [`ip daddr vmap { ${ingressMap.join(', ')} }`] : []),
  ];
  return [
    // Declaring, deleting and re-declaring in one transaction replaces the table atomically.
    `table ip ${input.table}`,
    `delete table ip ${input.table}`,
    `table ip ${input.table} {`,
    chain('output', output),
    ...chains,
    '}',
    '',
  ].join('\n');
}

function chain(name: string, rules: string[]): string {
  return [`  chain ${name} {`, ...rules.map((r) => `    ${r}`), '  }'].join('\n');
}

function chainSuffix(ip: string): string {
  return ip.replaceAll('.', '_');
}

function set(items: string[]): string {
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`;
}

/**
 * The TCP part of the ports a rule admits, as an nft match: '' for every TCP port, undefined when
 * the rule admits no TCP port at all.
 */
function tcpPortMatch(ports: RulePorts): string | undefined {
  if (ports === 'all') return '';
  const tcp = ports.filter((p) => p.protocol === 'TCP');
  if (tcp.length === 0) return undefined;
  if (tcp.some((p) => p.from === undefined)) return '';
  const items = [
    ...new Set(tcp.map((p) => (p.to !== undefined && p.to !== p.from ? `${p.from}-${p.to}` : `${p.from}`))),
  ];
  return `tcp dport ${set(items)}`;
}

function join(...parts: Array<string | undefined>): string {
  return parts.filter((p) => p).join(' ');
}

function podIps(pods: KubeObject[]): string[] {
  return [...new Set(pods.map((p) => p.status?.podIP).filter((ip): ip is string => Boolean(ip)))].sort();
}

function ingressRules(input: RulesetInput, pod: KubeObject): string[] {
  const { index } = input;
  const out: string[] = [];
  const destination: Peer = { kind: 'pod', pod };
  const actorAddresses = input.actors.map((a) => a.address);
  for (const policy of index.applying(pod, 'Ingress')) {
    for (const rule of policy.ingress) {
      const ports = tcpPortMatch(index.resolvePorts(rule.ports, destination));
      if (ports === undefined) continue;
      if (rule.peers === 'any') {
        out.push(join(ports, 'accept'));
        continue;
      }
      for (const peer of rule.peers) out.push(...ingressPeerRules(input, peer, ports, actorAddresses));
    }
  }
  return out;
}

function ingressPeerRules(
  input: RulesetInput,
  peer: PolicyPeer,
  ports: string,
  actorAddresses: string[],
): string[] {
  const { index } = input;
  if (peer.kind === 'invalid') return [];
  if (peer.kind === 'selector') {
    // the pods it selects, and the twin's actors that stand for a pod it selects (Traefik on k3s)
    const ips = [
      ...podIps(index.selectedPods(peer)),
      ...input.actors.filter((a) => index.peerMatches(peer, a.peer)).map((a) => a.address),
    ];
    return ips.length ? [join(`ip saddr ${set(ips)}`, ports, 'accept')] : [];
  }
  const out: string[] = [];
  // The twin's own actors are matched by what they stand for, not by their loopback address.
  const actors = input.actors.filter((a) => index.peerMatches(peer, a.peer)).map((a) => a.address);
  if (actors.length) out.push(join(`ip saddr ${set(actors)}`, ports, 'accept'));
  out.push(
    join(
      actorAddresses.length ? `ip saddr != ${set(actorAddresses)}` : '',
      `ip saddr ${peer.cidr.text}`,
      peer.except.length ? `ip saddr != ${set(peer.except.map((e) => e.text))}` : '',
      ports,
      'accept',
    ),
  );
  return out;
}

function egressRules(input: RulesetInput, pod: KubeObject): string[] {
  const { index } = input;
  const out: string[] = [];
  for (const policy of index.applying(pod, 'Egress')) {
    for (const rule of policy.egress) {
      const named = rule.ports !== 'all' && rule.ports.some((p) => typeof p.port === 'string');
      if (rule.peers === 'any') {
        out.push(...numericEgress(input, rule, ''));
        if (named) out.push(...podEgress(input, rule, index.pods));
        continue;
      }
      for (const peer of rule.peers) {
        if (peer.kind === 'invalid') continue;
        if (peer.kind === 'selector') {
          out.push(...podEgress(input, rule, index.selectedPods(peer)));
          continue;
        }
        const block = join(
          `ip daddr ${peer.cidr.text}`,
          peer.except.length ? `ip daddr != ${set(peer.except.map((e) => e.text))}` : '',
        );
        out.push(...numericEgress(input, rule, block));
        if (named) {
          const inBlock = index.pods.filter((p) => {
            const ip = p.status?.podIP;
            return ip && cidrContains(peer.cidr, ip) && !peer.except.some((e) => cidrContains(e, ip));
          });
          out.push(...podEgress(input, rule, inBlock));
        }
      }
    }
  }
  return out;
}

/** The rule's numeric ports towards any destination that `destination` (an nft match) selects. */
function numericEgress(input: RulesetInput, rule: PolicyRule, destination: string): string[] {
  const ports = tcpPortMatch(input.index.resolvePorts(rule.ports, { kind: 'external', ip: '0.0.0.0' }));
  if (ports === undefined) return [];
  return [join(destination, ports, 'return')];
}

/** The rule's ports resolved on each destination pod (named ports differ per pod), grouped by port set. */
function podEgress(input: RulesetInput, rule: PolicyRule, pods: KubeObject[]): string[] {
  const groups = new Map<string, string[]>();
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip || !onPodNetwork(pod)) continue;
    const ports = tcpPortMatch(input.index.resolvePorts(rule.ports, { kind: 'pod', pod }));
    if (ports === undefined) continue;
    groups.set(ports, [...(groups.get(ports) ?? []), ip]);
  }
  return [...groups].map(([ports, ips]) =>
    join(`ip daddr ${set([...new Set(ips)].sort())}`, ports, 'return'),
  );
}

/**
 * Per Service IP: the clients (this twin's pods and actors) that the policies deny every ready
 * endpoint of a port, whose connection to that port is dropped.
 */
function serviceDrops(input: RulesetInput, podsHere: KubeObject[]): Map<string, string[]> {
  const { index } = input;
  const clients: Array<{ address: string; peer: Peer }> = [
    ...podsHere.map((pod) => ({ address: pod.status.podIP as string, peer: { kind: 'pod', pod } as Peer })),
    ...input.actors,
  ];
  const out = new Map<string, string[]>();
  for (const sp of input.services) {
    if (!input.ours(sp.ip) || sp.endpoints.length === 0) continue;
    const denied = clients
      .filter((c) =>
        sp.endpoints.every((e) => !index.evaluate(c.peer, { kind: 'pod', pod: e.pod }, e.port).allowed),
      )
      .map((c) => c.address);
    if (denied.length === 0) continue;
    const rules = out.get(sp.ip) ?? [];
    rules.push(`tcp dport ${sp.port} ip saddr ${set([...new Set(denied)].sort())} drop`);
    out.set(sp.ip, rules);
  }
  return out;
}
