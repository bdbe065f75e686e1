import type { KubeObject } from '../../kube/object.ts';
import { keyOf, ReconcileController, splitKey } from '../controllers/controller.ts';
import type { WatchEvent } from '../store/object-store.ts';
import type { AddressAllocator } from './address-allocator.ts';

/**
 * The API server's Service IP allocation and defaulting: a ClusterIP from the Service range for
 * every Service without one (not for clusterIP: None or ExternalName), ports defaulted to protocol TCP
 * and targetPort = port; the address is freed when the Service is deleted.
 *
 * Twin simplification: a clusterIP written in a manifest outside the twin's loopback range (or taken)
 * is replaced by an allocated one, since only loopback addresses can be bound on this machine.
 */
export class ServiceIpController extends ReconcileController {
  readonly name = 'service-ip';

  constructor(private readonly allocator: AddressAllocator) {
    super();
  }

  protected watches() {
    return [
      {
        filter: { kind: 'Service' },
        keys: (e: WatchEvent) => {
          if (e.type === 'DELETED') {
            this.allocator.release(e.object.metadata.uid ?? keyOf(e.object));
            return [];
          }
          return needsDefaults(e.object, this.allocator) ? [keyOf(e.object)] : [];
        },
      },
    ];
  }

  protected override onStart(): void {
    const services = this.ctx.store.list({ kind: 'Service' });
    // Existing addresses first, so that new allocations do not collide with them.
    for (const svc of services) {
      const ip = svc.spec?.clusterIP;
      if (ip && ip !== 'None') this.allocator.reserve(svc.metadata.uid ?? keyOf(svc), ip);
    }
    this.enqueue(...services.filter((s) => needsDefaults(s, this.allocator)).map(keyOf));
  }

  /** Applies the defaults to a Service object in place (for callers that create Services themselves). */
  defaults(svc: KubeObject): void {
    applyDefaults(svc, this.allocator);
  }

  protected reconcile(key: string): void {
    const { namespace, name } = splitKey(key);
    const svc = this.ctx.store.get({ kind: 'Service', namespace, name });
    if (!svc || !needsDefaults(svc, this.allocator)) return;
    this.ctx.store.patch({ kind: 'Service', namespace, name }, (obj) => applyDefaults(obj, this.allocator));
  }
}

function needsDefaults(svc: KubeObject, allocator?: AddressAllocator): boolean {
  const spec = svc.spec ?? {};
  if ((spec.ports ?? []).some((p: any) => p.protocol === undefined || p.targetPort === undefined))
    return true;
  if (spec.type === 'ExternalName' || spec.clusterIP === 'None') return false;
  if (!spec.clusterIP || !spec.clusterIPs) return true;
  if (allocator && allocator.addressOf(svc.metadata.uid ?? keyOf(svc)) !== spec.clusterIP) return true;
  return false;
}

function applyDefaults(svc: KubeObject, allocator: AddressAllocator): void {
  svc.spec ??= {};
  const spec = svc.spec;
  for (const p of (spec.ports ?? []) as any[]) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
  if (spec.type === 'ExternalName' || spec.clusterIP === 'None') {
    if (spec.clusterIP === 'None') spec.clusterIPs = ['None'];
    return;
  }
  spec.type ??= 'ClusterIP';
  const key = svc.metadata.uid ?? keyOf(svc);
  const wanted: string | undefined = spec.clusterIP;
  const ip = wanted && allocator.reserve(key, wanted) ? wanted : allocator.allocate(key);
  spec.clusterIP = ip;
  spec.clusterIPs = [ip];
}
