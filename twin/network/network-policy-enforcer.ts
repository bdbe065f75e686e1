import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KubeObject } from '../../kube/object.ts';
import type { ObjectStore, WatchEvent } from '../store/object-store.ts';
import { addressBlockHeld } from './address-allocator.ts';
import { type Endpoint, readyEndpoints } from './endpoint-table.ts';
import { NetworkPolicyIndex, onPodNetwork, type Peer, type Verdict } from './network-policy.ts';
import {
  compileRuleset,
  HOST_ADDRESS,
  type PresentedActor,
  type ServicePortTarget,
} from './network-policy-ruleset.ts';
import { applyNft, deleteTable, listTwinTables, nftAvailable, tableName } from './nftables.ts';

export type EnforcementMode = 'kernel' | 'proxy';

/** What the Service and Ingress proxies ask before they forward a client's connection. */
export interface ConnectionPolicy {
  /** Whether a client at `address` may open a connection to an endpoint. */
  allows(address: string, endpoint: Endpoint): boolean;
  /** 'kernel': a connection the proxy opens from a denied client's address is dropped by the kernel. */
  readonly mode: EnforcementMode;
  /** Resolves once the kernel's rules reflect the objects as they are now. */
  synced(): Promise<void>;
}

export interface NetworkPolicyEnforcerOptions {
  store: ObjectStore;
  /** The twin's address block (address-allocator.ts claimAddressBlock): its table and its addresses. */
  block: { index: number; first: number; last: number };
  /** 'auto': in the kernel where this process may (root, nft), else at the proxies. 'proxy': never the kernel. */
  mode?: 'auto' | 'proxy';
  /** The addresses the twin connects from on behalf of something outside the pod network (the ALB). */
  actors: () => PresentedActor[];
  log?: (message: string) => void;
  /** Where the ruleset last installed is written (for whoever wants to see what the kernel enforces). */
  rulesFile?: string;
}

const POD_PREFIX = '127.10.';
const SERVICE_PREFIX = '127.96.';
/** How long changes are gathered before the rules are rebuilt (one nft transaction for a burst). */
const SETTLE_MS = 20;

/**
 * Enforces the cluster's NetworkPolicies on the twin's loopback network.
 *
 * In the kernel (root with nftables): a table of this twin (`infra_twin_<block>`) drops the first SYN
 * of every connection the policies deny, whatever program opens it, straight to a pod address or
 * through a Service IP; the table follows every change of Pods, Namespaces, NetworkPolicies,
 * Services and Endpoints. At the proxies (always): the Service and Ingress proxies send a client only
 * to endpoints the policies let it reach and connect from the client's own address.
 *
 * Live pods connect from their pod address (pod-source-preload.mjs for Node, the LD_PRELOAD shim
 * pod-source-address.c for native programs), so the rules see which pod a connection comes from.
 *
 * Twin simplification: without root or nftables only the proxies enforce NetworkPolicy; connections
 * straight to pod addresses are not filtered there.
 */
export class NetworkPolicyEnforcer implements ConnectionPolicy {
  private modeValue: EnforcementMode = 'proxy';
  private nft: string | undefined;
  private reasonNotKernel = '';
  private readonly table: string;
  private readonly unwatch: Array<() => void> = [];
  private cached: NetworkPolicyIndex | undefined;
  private rulesDirty = true;
  private applied = '';
  private queue: Promise<void> = Promise.resolve();
  /** The apply queued behind the running one, not started yet. */
  private next: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private readonly log: (message: string) => void;

  constructor(private readonly options: NetworkPolicyEnforcerOptions) {
    this.table = tableName(options.block.index);
    this.log = options.log ?? (() => {});
  }

  get mode(): EnforcementMode {
    return this.modeValue;
  }

  /** Why the kernel does not enforce ('' when it does). */
  get notInKernelBecause(): string {
    return this.reasonNotKernel;
  }

  /** One line for the startup output: what is enforced, and how. */
  describe(): string {
    if (this.modeValue === 'kernel')
      return `NetworkPolicy enforced in the kernel (nftables table ip ${this.table}): a denied connection times out, through a Service or straight to a pod address`;
    return (
      `NetworkPolicy enforced only at the Service and Ingress proxies (${this.reasonNotKernel}): ` +
      'connections straight to pod addresses are not filtered, and a denied connection through a Service is accepted and never answered. Run as root with nftables to enforce it in the kernel'
    );
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { store } = this.options;
    const changed = (e: WatchEvent) => {
      if (
        e.object.kind === 'Pod' &&
        e.type === 'MODIFIED' &&
        e.oldObject &&
        !policyRelevantChange(e.oldObject, e.object)
      )
        return;
      this.cached = undefined;
      this.rulesDirty = true;
      this.schedule();
    };
    this.unwatch.push(
      store.watch({ kind: 'Pod' }, changed),
      store.watch({ kind: 'Namespace' }, changed),
      store.watch({ kind: 'NetworkPolicy' }, changed),
      store.watch({ kind: 'Service' }, changed),
      store.watch({ kind: 'Endpoints' }, changed),
    );
    if (this.options.mode === 'proxy') {
      this.reasonNotKernel = 'kernel enforcement turned off for this network';
      return;
    }
    const nft = await nftAvailable();
    if (!nft.ok) {
      this.reasonNotKernel = nft.reason;
      return;
    }
    this.nft = nft.nft;
    await this.removeStaleTables();
    this.modeValue = 'kernel';
    await this.synced();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const u of this.unwatch.splice(0)) u();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.queue.catch(() => {});
    if (this.nft) {
      await deleteTable(this.nft, this.table).catch((err) =>
        this.log(`network policy: cannot delete nftables table ${this.table}: ${(err as Error).message}`),
      );
    }
    this.applied = '';
  }

  /** Resolves once the kernel's rules reflect the objects as they are now (at once at the proxies). */
  synced(): Promise<void> {
    if (this.modeValue !== 'kernel' || !this.nft) return Promise.resolve();
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.enqueue();
  }

  /**
   * The next apply after the one running: callers that arrive while it waits share it (a zone's
   * worth of pods starting at once wait for one nft transaction, not one each). The queue never
   * rejects, so one failure cannot stop the next apply.
   */
  private enqueue(): Promise<void> {
    if (this.next) return this.next;
    const next = this.queue
      .then(() => {
        this.next = undefined;
        return this.apply();
      })
      .catch((err) => this.log(`network policy: cannot compile the rules: ${(err as Error).stack ?? err}`));
    this.next = next;
    this.queue = next;
    return next;
  }

  /** The policies, pods and namespaces as they are now (`fresh`: read from the store, not the cache). */
  index(fresh = false): NetworkPolicyIndex {
    if (!this.cached || fresh) {
      const { store } = this.options;
      this.cached = new NetworkPolicyIndex({
        policies: store.list({ kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' }),
        // The stored pods themselves (never changed in place), not a copy of every pod per change.
        pods: (store.listShared('/Pod') as KubeObject[]).filter((p) => !isTerminal(p)),
        namespaces: store.list({ kind: 'Namespace' }),
      });
    }
    return this.cached;
  }

  /** What a connection from a loopback address is to NetworkPolicy: the node (the host), an actor, a pod, or an outside address. */
  peerOf(address: string): Peer {
    const ip = address.replace(/^::ffff:/, '');
    if (ip === HOST_ADDRESS) return { kind: 'node' };
    const actor = this.options.actors().find((a) => a.address === ip);
    if (actor) return actor.peer;
    let pod = this.index().podByIp(ip);
    // An address of this twin's pods that the index does not know: read the store again rather than
    // judge a pod as an outsider.
    if (!pod && this.ours(ip)) pod = this.index(true).podByIp(ip);
    return pod ? { kind: 'pod', pod } : { kind: 'external', ip };
  }

  /** The verdict for a connection from `from` (a loopback address or a peer) to a pod's port. */
  verdict(from: string | Peer, to: KubeObject, port: number): Verdict {
    const peer = typeof from === 'string' ? this.peerOf(from) : from;
    return this.index().evaluate(peer, { kind: 'pod', pod: to }, port);
  }

  /** Whether a client at `address` may open a connection to a Service endpoint. */
  allows(address: string, endpoint: Endpoint): boolean {
    const index = this.index();
    if (index.policies.length === 0) return true;
    const pod = this.podOf(endpoint);
    if (!pod) return true;
    return index.evaluate(this.peerOf(address), { kind: 'pod', pod }, endpoint.port).allowed;
  }

  private podOf(endpoint: Endpoint): KubeObject | undefined {
    const index = this.index();
    const byIp = index.podByIp(endpoint.ip);
    if (byIp) return byIp;
    const [ns, name] = endpoint.pod.split('/');
    return index.pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name);
  }

  private schedule(): void {
    if (this.modeValue !== 'kernel' || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.enqueue();
    }, SETTLE_MS);
    this.timer.unref();
  }

  private async apply(): Promise<void> {
    if (!this.nft || !this.started || !this.rulesDirty) return;
    this.rulesDirty = false;
    // Without a NetworkPolicy no pod is isolated and no Service port is denied to anyone: the rules
    // are those of no pods, whatever the pods (30,000 emulated ones need not be walked at each change).
    const none = this.options.store.listShared('networking.k8s.io/NetworkPolicy').length === 0;
    const text = compileRuleset({
      table: this.table,
      // The kernel's rules are always compiled from the store as it is, never from a cached index.
      index: none ? new NetworkPolicyIndex({ policies: [], pods: [], namespaces: [] }) : this.index(true),
      ours: (ip) => this.ours(ip),
      actors: this.options.actors(),
      services: none ? [] : this.serviceTargets(),
    });
    if (text === this.applied) return;
    try {
      await applyNft(this.nft, text);
      this.applied = text;
      const file = this.options.rulesFile;
      if (file)
        await mkdir(dirname(file), { recursive: true })
          .then(() => writeFile(file, text))
          .catch(() => {});
    } catch (err) {
      this.rulesDirty = true;
      this.log(`network policy: nft rejected the rules of table ${this.table}: ${(err as Error).message}`);
    }
  }

  private ours(ip: string): boolean {
    const prefix = ip.startsWith(POD_PREFIX)
      ? POD_PREFIX
      : ip.startsWith(SERVICE_PREFIX)
        ? SERVICE_PREFIX
        : '';
    if (!prefix) return false;
    const third = Number(ip.slice(prefix.length).split('.')[0]);
    return third >= this.options.block.first && third <= this.options.block.last;
  }

  /** Every TCP port of every ClusterIP Service with the pods behind its ready endpoints. */
  private serviceTargets(): ServicePortTarget[] {
    const { store } = this.options;
    const index = this.index();
    const byName = new Map(index.pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
    const out: ServicePortTarget[] = [];
    for (const svc of store.list({ kind: 'Service' })) {
      const ip: string | undefined = svc.spec?.clusterIP;
      if (!ip || ip === 'None' || !this.ours(ip)) continue;
      const eps = store.get({
        kind: 'Endpoints',
        namespace: svc.metadata.namespace,
        name: svc.metadata.name,
      });
      for (const p of (svc.spec?.ports ?? []) as any[]) {
        if ((p.protocol ?? 'TCP') !== 'TCP' || typeof p.port !== 'number') continue;
        const endpoints = readyEndpoints(svc, eps, p.name ?? p.port).flatMap((e) => {
          const pod = index.podByIp(e.ip) ?? byName.get(e.pod);
          return pod && onPodNetwork(pod) ? [{ pod, port: e.port }] : [];
        });
        out.push({ ip, port: p.port, endpoints });
      }
    }
    return out;
  }

  /**
   * Tables of twins that are gone (killed before their down ran): their address block is free again,
   * and so is this twin's own block, which a crashed twin may have held before.
   */
  private async removeStaleTables(): Promise<void> {
    const nft = this.nft!;
    for (const block of await listTwinTables(nft)) {
      if (block !== this.options.block.index && addressBlockHeld(block)) continue;
      await deleteTable(nft, tableName(block));
      if (block !== this.options.block.index)
        this.log(`network policy: removed the nftables table ${tableName(block)} of a twin that is gone`);
    }
  }
}

function isTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Whether a pod's change can change what the policies allow: labels, address, host network, ports, phase. */
function policyRelevantChange(before: KubeObject, after: KubeObject): boolean {
  return (
    JSON.stringify(before.metadata.labels ?? {}) !== JSON.stringify(after.metadata.labels ?? {}) ||
    before.status?.podIP !== after.status?.podIP ||
    before.status?.phase !== after.status?.phase ||
    before.spec?.hostNetwork !== after.spec?.hostNetwork ||
    before.spec?.nodeName !== after.spec?.nodeName
  );
}
