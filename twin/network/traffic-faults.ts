import { seededRandom, seedOf } from '../../core/seeded-random.ts';

/**
 * Network faults on the traffic the twin's proxies carry to pods: what Chaos Mesh's NetworkChaos (netem
 * delay and loss, partition) and HTTPChaos (abort, delay, a replaced status) do to a pod's traffic on a
 * cluster, played where the twin sees that traffic — in the Service and Ingress proxies, per request.
 *
 * Twin simplification: netem delays every packet a pod sends; the twin delays each proxied request to
 * the pod once (the response leg), twice with `both` directions, and not the pod's own connections that
 * bypass the proxies (to pod addresses, to the host, DNS).
 * Twin simplification: netem loss drops packets; the twin plays it per proxied request as TCP's
 * retransmissions of its request and response (RTO 200 ms, doubling, 15 retries; 100 % never arrives),
 * ignoring the SYN of new connections and the loss correlation.
 */

/** One fault in effect (one Chaos Mesh object on a cluster). */
export interface TrafficFaultRule {
  /** Unique: "NetworkChaos default/api-delay". */
  id: string;
  /** "namespace/name" of the pods whose traffic is affected. */
  pods: ReadonlySet<string>;
  /** Only traffic between them and these client addresses (NetworkChaos `target`); everyone when unset. */
  peers?: ReadonlySet<string>;
  /** netem delay: added to each request, uniform in latency ± jitter. */
  delay?: { latencyMs: number; jitterMs?: number; bothWays?: boolean };
  /** netem loss, percent of packets. */
  lossPercent?: number;
  /** partition: nothing gets through. */
  partition?: boolean;
  /** HTTPChaos on the pods' HTTP server: which requests, and what happens to them. */
  http?: {
    port?: number;
    /** Glob over the request path ('*' any run of characters), as HTTPChaos' `path`. */
    path?: string;
    method?: string;
    abort?: boolean;
    delayMs?: number;
    /** A replaced response status (HTTPChaos `replace.code`). */
    code?: number;
  };
}

/** What the proxy does with one request. */
export interface TrafficEffect {
  /** Milliseconds to wait before the request goes on. */
  delayMs: number;
  /** The request never arrives (partition, or loss beyond TCP's retries). */
  unreachable: boolean;
  /** The pod's server aborts the connection. */
  abort: boolean;
  /** Answer with this status instead of the pod's. */
  code?: number;
  /** The rules that applied, by id. */
  by: string[];
}

export interface TrafficRequest {
  /** "namespace/name" of the pod the proxy chose. */
  pod: string;
  port: number;
  /** The address the request came from (a pod's, the host's, the load balancer's). */
  client: string;
  method?: string;
  path?: string;
}

const RTO_MIN_MS = 200;
const DATA_RETRIES = 15;

export class TrafficFaults {
  private readonly rules = new Map<string, { rule: TrafficFaultRule; random: () => number }>();

  add(rule: TrafficFaultRule, seed = seedOf(rule.id)): void {
    this.rules.set(rule.id, { rule, random: seededRandom(seed) });
  }

  remove(id: string): boolean {
    return this.rules.delete(id);
  }

  get size(): number {
    return this.rules.size;
  }

  ids(): string[] {
    return [...this.rules.keys()];
  }

  /** What the faults in effect do to a request (nothing when none matches). */
  effect(req: TrafficRequest): TrafficEffect {
    const out: TrafficEffect = { delayMs: 0, unreachable: false, abort: false, by: [] };
    if (this.rules.size === 0) return out;
    const client = req.client.replace(/^::ffff:/, '');
    for (const { rule, random } of this.rules.values()) {
      if (!rule.pods.has(req.pod)) continue;
      if (rule.peers && !rule.peers.has(client)) continue;
      if (rule.http && !httpMatches(rule.http, req)) continue;
      out.by.push(rule.id);
      if (rule.partition) out.unreachable = true;
      if (rule.delay) {
        const jitter = rule.delay.jitterMs ?? 0;
        const once = Math.max(0, rule.delay.latencyMs + (random() * 2 - 1) * jitter);
        out.delayMs += rule.delay.bothWays ? 2 * once : once;
      }
      if (rule.lossPercent) {
        const extra = retransmissionDelayMs(rule.lossPercent / 100, random);
        if (extra === undefined) out.unreachable = true;
        else out.delayMs += extra;
      }
      if (rule.http) {
        out.delayMs += rule.http.delayMs ?? 0;
        if (rule.http.abort) out.abort = true;
        if (rule.http.code !== undefined) out.code = rule.http.code;
      }
    }
    return out;
  }
}

/**
 * The time TCP spends resending a request and its response when each packet is lost with probability
 * `p`: each loss waits one retransmission timeout, doubling from 200 ms; undefined when a packet is
 * lost more often than TCP retries (the request never completes).
 */
export function retransmissionDelayMs(p: number, random: () => number): number | undefined {
  if (p <= 0) return 0;
  if (p >= 1) return undefined;
  let total = 0;
  for (let packet = 0; packet < 2; packet++) {
    let rto = RTO_MIN_MS;
    let retries = 0;
    while (random() < p) {
      if (++retries > DATA_RETRIES) return undefined;
      total += rto;
      rto = Math.min(rto * 2, 120_000);
    }
  }
  return total;
}

function httpMatches(http: NonNullable<TrafficFaultRule['http']>, req: TrafficRequest): boolean {
  if (http.port !== undefined && http.port !== req.port) return false;
  if (http.method && req.method && http.method.toUpperCase() !== req.method.toUpperCase()) return false;
  if (http.path && req.path !== undefined) {
    const pathOnly = req.path.split('?')[0]!;
    const re = new RegExp(`^${http.path.split('*').map(escapeRegExp).join('.*')}$`);
    if (!re.test(pathOnly)) return false;
  }
  return true;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
