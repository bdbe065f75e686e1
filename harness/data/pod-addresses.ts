import type { Environment, KubeObject } from '../../env/environment.ts';

/**
 * The cluster DNS names of a namespace's pods (`<hostname>.<subdomain>.<namespace>.svc.cluster.local`,
 * what StatefulSet pods behind a headless Service are called) and their addresses, kept current through
 * a watch. Clients outside the cluster use it to reach what in-cluster services hand out by name: the
 * master a Sentinel with `announce-hostnames yes` names, for instance (ioredis `natMap`).
 */
export class PodAddresses {
  private readonly byName = new Map<string, string>();
  private readonly unwatch: () => void;

  private constructor(
    private readonly env: Environment,
    readonly namespace: string,
  ) {
    this.unwatch = env.kube.watch({ kind: 'Pod', namespace }, (e) => {
      if (e.type === 'DELETED') {
        const name = dnsName(e.object);
        if (name && this.byName.get(name) === e.object.status?.podIP) this.byName.delete(name);
      } else this.index(e.object);
    });
  }

  static async start(env: Environment, namespace: string): Promise<PodAddresses> {
    const a = new PodAddresses(env, namespace);
    for (const pod of await env.kube.list({ kind: 'Pod' }, { namespace })) a.index(pod);
    return a;
  }

  private index(pod: KubeObject): void {
    const name = dnsName(pod);
    const ip = pod.status?.podIP as string | undefined;
    if (name && ip) this.byName.set(name, ip);
  }

  /** The address of a pod's DNS name (or the name itself when it is an address or unknown). */
  address(host: string): string {
    return this.byName.get(host.replace(/\.$/, '').toLowerCase()) ?? host;
  }

  /** An ioredis natMap: "host:port" → the pod's address and the port. */
  readonly natMap = (key: string): { host: string; port: number } | null => {
    const i = key.lastIndexOf(':');
    const host = key.slice(0, i);
    const ip = this.byName.get(host.toLowerCase());
    return ip ? { host: ip, port: Number(key.slice(i + 1)) } : null;
  };

  /** The pod a "host:port" or "host" names, by DNS name or address. */
  async podOf(address: string): Promise<KubeObject | undefined> {
    const host = address.includes(':') ? address.slice(0, address.lastIndexOf(':')) : address;
    const pods = await this.env.kube.list({ kind: 'Pod' }, { namespace: this.namespace });
    return pods.find((p) => dnsName(p) === host.toLowerCase() || p.status?.podIP === host);
  }

  close(): void {
    this.unwatch();
  }
}

function dnsName(pod: KubeObject): string | undefined {
  const { hostname, subdomain } = pod.spec ?? {};
  if (!hostname || !subdomain) return undefined;
  return `${hostname}.${subdomain}.${pod.metadata.namespace ?? 'default'}.svc.cluster.local`.toLowerCase();
}
