import { type LookupAddress, type LookupOptions, lookup as systemLookup } from 'node:dns';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KubeObject } from '../../kube/object.ts';
import type { ObjectStore, WatchEvent } from '../store/object-store.ts';
import { CLUSTER_DOMAIN, candidateNames } from './dns-search.ts';

/** What the DNS file holds; dns-preload.mjs reads it. */
export interface DnsFile {
  records: Record<string, string[]>;
}

export type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
export type LookupFunction = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * The cluster's DNS (CoreDNS's kubernetes plugin): A records for Services (`<svc>.<ns>.svc.cluster.local`
 * → ClusterIP; headless Services → the ready addresses of their Endpoints) and for pods with
 * spec.hostname and spec.subdomain. The records are written to a JSON file for live pods.
 *
 * Twin simplification: A records only (no SRV, PTR or pod-IP records); a pod's hostname record
 * exists whenever it has an IP, whether or not a headless Service named like its subdomain exists.
 */
export class ClusterDns {
  private readonly bySource = new Map<string, Map<string, string[]>>();
  private merged = new Map<string, string[]>();
  private readonly unwatch: Array<() => void> = [];
  private writeScheduled = false;
  private writing: Promise<void> = Promise.resolve();
  private version = 0;
  private writtenVersion = -1;

  constructor(
    private readonly store: ObjectStore,
    readonly file?: string,
    private readonly onWriteError?: (err: unknown) => void,
  ) {}

  start(): void {
    for (const kind of ['Service', 'Endpoints', 'Pod']) {
      this.unwatch.push(this.store.watch({ kind }, (e) => this.onEvent(e)));
      for (const obj of this.store.list({ kind })) this.index(obj);
    }
    this.changed();
  }

  stop(): void {
    for (const u of this.unwatch.splice(0)) u();
  }

  /** Adds records that no object stands for (the twin's own services). */
  setStatic(source: string, records: Record<string, string[]>): void {
    this.bySource.set(`static:${source}`, new Map(Object.entries(records)));
    this.changed();
  }

  /** Addresses of `name` as a pod in `namespace` would resolve it; undefined when no cluster record matches. */
  resolve(name: string, namespace?: string): string[] | undefined {
    for (const candidate of candidateNames(name, namespace)) {
      const ips = this.merged.get(candidate);
      if (ips && ips.length > 0) return [...ips];
    }
    return undefined;
  }

  /** The addresses of a fully qualified name (no search list), or undefined when it has no record. */
  addresses(fqdn: string): string[] | undefined {
    const ips = this.merged.get(fqdn.toLowerCase().replace(/\.$/, ''));
    return ips ? [...ips] : undefined;
  }

  /** Every record, by fully qualified name. */
  records(): Record<string, string[]> {
    return Object.fromEntries([...this.merged].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** A `lookup` for net/http/undici clients in this process that resolves as a pod in `namespace` would. */
  lookupFor(namespace?: string): LookupFunction {
    return (hostname, options, callback) => {
      const opts: LookupOptions = typeof options === 'number' ? { family: options } : (options ?? {});
      const ips = opts.family === 6 ? undefined : this.resolve(hostname, namespace);
      if (!ips) {
        systemLookup(hostname, opts, callback as never);
        return;
      }
      if (opts.all)
        process.nextTick(
          callback,
          null,
          ips.map((address) => ({ address, family: 4 })),
        );
      else process.nextTick(callback, null, ips[0]!, 4);
    };
  }

  /** Resolves when the file holds the records as they are now. */
  async flush(): Promise<void> {
    while (this.writeScheduled || this.writtenVersion !== this.version) {
      if (!this.file) return;
      await this.writing;
      if (!this.writeScheduled && this.writtenVersion !== this.version) this.scheduleWrite();
      await new Promise((r) => setImmediate(r));
    }
  }

  private onEvent(e: WatchEvent): void {
    if (e.type === 'DELETED') this.bySource.delete(sourceKey(e.object));
    else this.index(e.object);
    // A headless Service's records come from its Endpoints; re-index them when the Service changes.
    if (e.object.kind === 'Service') {
      const ep = this.store.get({
        kind: 'Endpoints',
        namespace: e.object.metadata.namespace,
        name: e.object.metadata.name,
      });
      if (ep) this.index(ep);
    }
    this.changed();
  }

  private index(obj: KubeObject): void {
    const records = new Map<string, string[]>();
    const ns = obj.metadata.namespace ?? 'default';
    if (obj.kind === 'Service') {
      const ip = obj.spec?.clusterIP;
      if (obj.spec?.type !== 'ExternalName' && ip && ip !== 'None') {
        records.set(`${obj.metadata.name}.${ns}.svc.${CLUSTER_DOMAIN}`, [ip]);
      }
    } else if (obj.kind === 'Endpoints') {
      const svc = this.store.get({ kind: 'Service', namespace: ns, name: obj.metadata.name });
      if (svc?.spec?.clusterIP === 'None') {
        const ips: string[] = [];
        const withNotReady = svc.spec?.publishNotReadyAddresses === true;
        for (const subset of (obj.subsets ?? []) as any[]) {
          for (const a of [
            ...(subset.addresses ?? []),
            ...(withNotReady ? (subset.notReadyAddresses ?? []) : []),
          ]) {
            if (a.ip && !ips.includes(a.ip)) ips.push(a.ip);
            if (a.hostname && a.ip)
              records.set(`${a.hostname}.${obj.metadata.name}.${ns}.svc.${CLUSTER_DOMAIN}`, [a.ip]);
          }
        }
        records.set(`${obj.metadata.name}.${ns}.svc.${CLUSTER_DOMAIN}`, ips);
      }
    } else if (obj.kind === 'Pod') {
      const { hostname, subdomain } = obj.spec ?? {};
      const ip = obj.status?.podIP;
      if (hostname && subdomain && ip)
        records.set(`${hostname}.${subdomain}.${ns}.svc.${CLUSTER_DOMAIN}`, [ip]);
    }
    const key = sourceKey(obj);
    if (records.size > 0) this.bySource.set(key, records);
    else this.bySource.delete(key);
  }

  private changed(): void {
    const merged = new Map<string, string[]>();
    for (const records of this.bySource.values()) {
      for (const [name, ips] of records) {
        const existing = merged.get(name);
        if (!existing) merged.set(name, [...ips]);
        else for (const ip of ips) if (!existing.includes(ip)) existing.push(ip);
      }
    }
    if (sameRecords(merged, this.merged)) return;
    this.merged = merged;
    this.version++;
    this.scheduleWrite();
  }

  private scheduleWrite(): void {
    if (!this.file || this.writeScheduled) return;
    this.writeScheduled = true;
    const file = this.file;
    this.writing = this.writing
      .then(async () => {
        this.writeScheduled = false;
        const version = this.version;
        const body: DnsFile = { records: this.records() };
        const tmp = `${file}.${process.pid}.tmp`;
        await mkdir(dirname(file), { recursive: true });
        await writeFile(tmp, JSON.stringify(body));
        await rename(tmp, file);
        this.writtenVersion = version;
      })
      .catch((err) => {
        this.writtenVersion = this.version;
        this.onWriteError?.(err);
      });
  }
}

function sourceKey(obj: KubeObject): string {
  return `${obj.kind}:${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

function sameRecords(a: Map<string, string[]>, b: Map<string, string[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.length !== v.length || v.some((x, i) => w[i] !== x)) return false;
  }
  return true;
}
