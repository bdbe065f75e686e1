import { matchesMap } from '../../kube/labels.ts';
import { type KubeObject, ownerReferenceTo, refOf } from '../../kube/object.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { keyOf, ReconcileController, splitKey } from './controller.ts';
import { resolveTargetPort } from './endpoints.ts';
import { isPodReady, isPodTerminal, isPodTerminating } from './pod-state.ts';
import { stableStringify } from './pod-template.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
/** --max-endpoints-per-slice of kube-controller-manager. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

const SLICE_TYPE = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' };

interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
  nodeName?: string;
  zone?: string;
  hostname?: string;
}

/**
 * The endpoints of a Service as EndpointSlices list them (endpointslice.podToEndpoint): every pod
 * with an address that has not ended, terminating ones included; `serving` is the pod's readiness,
 * `ready` is serving and not terminating (always true with publishNotReadyAddresses). Pods whose
 * target ports resolve differently go to different slices, each at most MAX_ENDPOINTS_PER_SLICE.
 */
export function desiredSlices(
  service: KubeObject,
  pods: KubeObject[],
  zoneOf: (node: string) => string | undefined,
): Array<{ ports: SlicePort[]; endpoints: SliceEndpoint[] }> {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: SlicePort[]; endpoints: SliceEndpoint[] }>();
  for (const pod of pods) {
    const ip: string | undefined = pod.status?.podIP;
    if (!ip || isPodTerminal(pod)) continue;
    const ports: SlicePort[] = [];
    for (const sp of (service.spec?.ports ?? []) as Array<{
      name?: string;
      port: number;
      protocol?: string;
      targetPort?: number | string;
      appProtocol?: string;
    }>) {
      const port = resolveTargetPort(pod, sp);
      if (port === undefined) continue;
      ports.push({
        name: sp.name ?? '',
        port,
        protocol: sp.protocol ?? 'TCP',
        ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
      });
    }
    const serving = pod.status?.phase === 'Running' && isPodReady(pod);
    const terminating = isPodTerminating(pod);
    const endpoint: SliceEndpoint = {
      addresses: [ip],
      conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
      targetRef: {
        kind: 'Pod',
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name,
        uid: pod.metadata.uid ?? '',
      },
    };
    if (pod.spec?.nodeName) {
      endpoint.nodeName = pod.spec.nodeName;
      const zone = zoneOf(pod.spec.nodeName);
      if (zone) endpoint.zone = zone;
    }
    if (pod.spec?.hostname && pod.spec?.subdomain === service.metadata.name)
      endpoint.hostname = pod.spec.hostname;
    ports.sort((a, b) => a.name.localeCompare(b.name) || a.port - b.port);
    const key = stableStringify(ports);
    const group = groups.get(key) ?? { ports, endpoints: [] };
    groups.set(key, group);
    group.endpoints.push(endpoint);
  }
  const out: Array<{ ports: SlicePort[]; endpoints: SliceEndpoint[] }> = [];
  for (const [, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    g.endpoints.sort((a, b) => a.targetRef.name.localeCompare(b.targetRef.name));
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE)
      out.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  return out;
}

/**
 * The EndpointSlice controller: for every Service with a selector, discovery.k8s.io/v1
 * EndpointSlices (named <service>-<suffix>, labelled kubernetes.io/service-name and managed-by
 * endpointslice-controller.k8s.io, owned by the Service) listing its pods with their ready, serving
 * and terminating conditions; slices are updated in place and only when they change.
 * Twin simplification: addresses are IPv4 only, and the mirroring of hand-written Endpoints of
 * selectorless Services into slices (endpointslicemirroring-controller) is not modelled. See
 * https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/
 */
export class EndpointSliceController extends ReconcileController {
  readonly name = 'endpointslice-controller';
  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      { filter: { kind: 'Service' }, keys: (e) => [keyOf(e.object)] },
      {
        filter: { kind: 'Pod' },
        keys: (e) =>
          this.ctx.store
            .list({ kind: 'Service' }, { namespace: e.object.metadata.namespace ?? '' })
            .filter(
              (s) =>
                matchesMap(s.spec?.selector, e.object.metadata.labels) ||
                (e.oldObject && matchesMap(s.spec?.selector, e.oldObject.metadata.labels)),
            )
            .map(keyOf),
      },
      {
        filter: SLICE_TYPE,
        keys: (e) => {
          const service = e.object.metadata.labels?.[SERVICE_NAME_LABEL];
          const managed = e.object.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
          return service && managed && e.type !== 'ADDED'
            ? [`${e.object.metadata.namespace ?? ''}/${service}`]
            : [];
        },
      },
    ];
  }

  protected override onStart(): void {
    this.enqueue(...this.ctx.store.list({ kind: 'Service' }).map(keyOf));
  }

  protected reconcile(key: string): void {
    const { store } = this.ctx;
    const { namespace, name } = splitKey(key);
    const service = store.get({ kind: 'Service', namespace, name });
    const existing = store
      .list(SLICE_TYPE, { namespace })
      .filter(
        (s) =>
          s.metadata.labels?.[SERVICE_NAME_LABEL] === name &&
          s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY,
      )
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const selector: Record<string, string> | undefined = service?.spec?.selector;
    if (!service || !selector || Object.keys(selector).length === 0) {
      for (const s of existing) store.delete(refOf(s));
      return;
    }
    const zones = new Map(
      store
        .list({ kind: 'Node' })
        .map((n) => [n.metadata.name, n.metadata.labels?.['topology.kubernetes.io/zone']]),
    );
    const pods = store
      .list({ kind: 'Pod' }, { namespace })
      .filter((p) => matchesMap(selector, p.metadata.labels));
    const desired = desiredSlices(service, pods, (node) => zones.get(node));
    const labels: Record<string, string> = {
      ...(service.metadata.labels ?? {}),
      [SERVICE_NAME_LABEL]: name,
      [MANAGED_BY_LABEL]: MANAGED_BY,
    };
    if (service.spec?.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
    // A Service without endpoints still has one slice, with none in it.
    const wanted = desired.length > 0 ? desired : [{ ports: [], endpoints: [] }];
    wanted.forEach((slice, i) => {
      const current = existing[i];
      if (!current) {
        store.create({
          ...SLICE_TYPE,
          metadata: {
            name: '',
            generateName: `${name}-`,
            namespace,
            labels,
            ownerReferences: [ownerReferenceTo(service)],
          },
          addressType: 'IPv4',
          endpoints: slice.endpoints,
          ports: slice.ports,
        });
        return;
      }
      if (
        stableStringify(current['endpoints'] ?? []) === stableStringify(slice.endpoints) &&
        stableStringify(current['ports'] ?? []) === stableStringify(slice.ports) &&
        stableStringify(current.metadata.labels ?? {}) === stableStringify(labels)
      )
        return;
      store.patch(refOf(current), (o) => {
        o.metadata.labels = labels;
        o['endpoints'] = slice.endpoints;
        o['ports'] = slice.ports;
      });
    });
    for (const extra of existing.slice(wanted.length)) store.delete(refOf(extra));
  }
}
