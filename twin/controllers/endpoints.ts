import { matchesMap } from '../../kube/labels.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { keyOf, ReconcileController, splitKey } from './controller.ts';
import { isPodReady, isPodTerminal, isPodTerminating } from './pod-state.ts';
import { stableStringify } from './pod-template.ts';

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
  appProtocol?: string;
}

interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

/** podutil.FindPort: a numeric targetPort as is, a named one from the pod's container ports. */
export function resolveTargetPort(pod: KubeObject, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of (pod.spec?.containers ?? []) as Array<{
    ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  }>) {
    for (const p of c.ports ?? [])
      if (p.name === target && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) return p.containerPort;
  }
  return undefined;
}

/** The Endpoints subsets of a Service over its pods, packed as endpoints.RepackSubsets does. */
export function endpointSubsets(service: KubeObject, pods: KubeObject[]): unknown[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const subsets = new Map<
    string,
    { addresses: EndpointAddress[]; notReadyAddresses: EndpointAddress[]; ports: EndpointPort[] }
  >();
  for (const pod of pods) {
    const ip: string | undefined = pod.status?.podIP;
    if (!ip || isPodTerminal(pod) || (isPodTerminating(pod) && !publishNotReady)) continue;
    const ports: EndpointPort[] = [];
    for (const sp of (service.spec?.ports ?? []) as ServicePort[]) {
      const port = resolveTargetPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      ports.push(ep);
    }
    if ((service.spec?.ports ?? []).length > 0 && ports.length === 0) continue;
    const address: EndpointAddress = {
      ip,
      targetRef: {
        kind: 'Pod',
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name,
        uid: pod.metadata.uid ?? '',
      },
    };
    if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
    if (pod.spec?.hostname && pod.spec?.subdomain === service.metadata.name)
      address.hostname = pod.spec.hostname;
    ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
    const key = stableStringify(ports);
    const subset = subsets.get(key) ?? { addresses: [], notReadyAddresses: [], ports };
    subsets.set(key, subset);
    const ready = publishNotReady || (pod.status?.phase === 'Running' && isPodReady(pod));
    (ready ? subset.addresses : subset.notReadyAddresses).push(address);
  }
  const byIp = (a: EndpointAddress, b: EndpointAddress) =>
    a.ip.localeCompare(b.ip, undefined, { numeric: true }) ||
    a.targetRef.name.localeCompare(b.targetRef.name);
  return [...subsets.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, s]) => {
      const out: Record<string, unknown> = {};
      if (s.addresses.length > 0) out.addresses = s.addresses.sort(byIp);
      if (s.notReadyAddresses.length > 0) out.notReadyAddresses = s.notReadyAddresses.sort(byIp);
      if (s.ports.length > 0) out.ports = s.ports;
      return out;
    });
}

/**
 * The Endpoints controller: for every Service with a selector, an Endpoints object of the same name
 * listing ready pods in addresses and the others in notReadyAddresses, written only when it changes.
 */
export class EndpointsController extends ReconcileController {
  readonly name = 'endpoint-controller';

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      { filter: { kind: 'Service' }, keys: (e) => [keyOf(e.object)] },
      {
        filter: { kind: 'Pod' },
        keys: (e) => {
          const ns = e.object.metadata.namespace ?? '';
          return this.ctx.store
            .list({ kind: 'Service' }, { namespace: ns })
            .filter(
              (s) =>
                matchesMap(s.spec?.selector, e.object.metadata.labels) ||
                (e.oldObject && matchesMap(s.spec?.selector, e.oldObject.metadata.labels)),
            )
            .map(keyOf);
        },
      },
      { filter: { kind: 'Endpoints' }, keys: (e) => (e.type === 'ADDED' ? [] : [keyOf(e.object)]) },
    ];
  }

  protected override onStart(): void {
    this.enqueue(...this.ctx.store.list({ kind: 'Service' }).map(keyOf));
  }

  protected reconcile(key: string): void {
    const { store } = this.ctx;
    const { namespace, name } = splitKey(key);
    const ref = { apiVersion: 'v1', kind: 'Endpoints', namespace, name };
    const service = store.get({ kind: 'Service', namespace, name });
    const current = store.get(ref);
    if (!service) {
      if (current?.metadata.labels?.['endpoints.kubernetes.io/managed-by'] === this.name) store.delete(ref);
      return;
    }
    const selector: Record<string, string> | undefined = service.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) return;
    const pods = store
      .list({ kind: 'Pod' }, { namespace })
      .filter((p) => matchesMap(selector, p.metadata.labels));
    const subsets = endpointSubsets(service, pods);
    const labels: Record<string, string> = {
      ...(service.metadata.labels ?? {}),
      'endpoints.kubernetes.io/managed-by': this.name,
    };
    if (service.spec?.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
    const desired: Record<string, unknown> = {};
    if (subsets.length > 0) desired.subsets = subsets;
    if (!current) {
      store.create({
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name, namespace, labels },
        ...desired,
      });
      return;
    }
    if (
      stableStringify(current.subsets ?? []) === stableStringify(subsets) &&
      stableStringify(current.metadata.labels ?? {}) === stableStringify(labels)
    )
      return;
    store.patch(ref, (o) => {
      o.metadata.labels = labels;
      if (subsets.length > 0) o.subsets = subsets;
      else delete o.subsets;
    });
  }
}
