import type { KubeObject } from '../../../../kube/object.ts';
import { sanitizeLabelName, type TargetGroup } from '../target-group.ts';

/**
 * Kubernetes service discovery's role → target mapping (discovery/kubernetes in Prometheus v2.54)
 * as pure functions over the API objects, with the `__meta_kubernetes_*` labels Prometheus
 * documents for each role:
 * https://prometheus.io/docs/prometheus/2.54/configuration/configuration/#kubernetes_sd_config
 */
const META = '__meta_kubernetes_';
const PRESENT = 'true';

function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function addObjectMeta(out: Record<string, string>, prefix: string, meta: KubeObject['metadata']): void {
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    const ln = sanitizeLabelName(k);
    out[`${META}${prefix}_label_${ln}`] = v;
    out[`${META}${prefix}_labelpresent_${ln}`] = PRESENT;
  }
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    const ln = sanitizeLabelName(k);
    out[`${META}${prefix}_annotation_${ln}`] = v;
    out[`${META}${prefix}_annotationpresent_${ln}`] = PRESENT;
  }
}

export function podSource(namespace: string, name: string): string {
  return `pod/${namespace}/${name}`;
}

/** The pod-level labels every pod target (and every endpoints target backed by a pod) carries. */
export function podLabels(pod: KubeObject): Record<string, string> {
  const ready = (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const out: Record<string, string> = {
    [`${META}pod_name`]: pod.metadata.name,
    [`${META}pod_ip`]: pod.status?.podIP ?? '',
    [`${META}pod_ready`]: ready ? String(ready.status).toLowerCase() : 'unknown',
    [`${META}pod_phase`]: pod.status?.phase ?? '',
    [`${META}pod_node_name`]: pod.spec?.nodeName ?? '',
    [`${META}pod_host_ip`]: pod.status?.hostIP ?? '',
    [`${META}pod_uid`]: pod.metadata.uid ?? '',
  };
  const controller = (pod.metadata.ownerReferences ?? []).find((r: any) => r.controller === true);
  if (controller?.kind) out[`${META}pod_controller_kind`] = controller.kind;
  if (controller?.name) out[`${META}pod_controller_name`] = controller.name;
  addObjectMeta(out, 'pod', pod.metadata);
  return out;
}

function containerId(pod: KubeObject, name: string, init: boolean): string {
  const statuses: any[] = (init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses) ?? [];
  return statuses.find((s) => s.name === name)?.containerID ?? '';
}

/**
 * role: pod — one target per declared container port (address podIP:port), or one per container
 * without ports (address podIP); init containers too, marked `pod_container_init`. A pod without an
 * IP yields an empty group.
 */
export function podTargetGroup(pod: KubeObject): TargetGroup {
  const ns = pod.metadata.namespace ?? 'default';
  const group: TargetGroup = { source: podSource(ns, pod.metadata.name), labels: {}, targets: [] };
  const ip: string | undefined = pod.status?.podIP;
  if (!ip) return group;
  group.labels = { ...podLabels(pod), [`${META}namespace`]: ns };
  const add = (containers: any[], init: boolean) => {
    for (const c of containers) {
      const common = {
        [`${META}pod_container_name`]: c.name,
        [`${META}pod_container_image`]: c.image ?? '',
        [`${META}pod_container_id`]: containerId(pod, c.name, init),
        [`${META}pod_container_init`]: String(init),
      };
      if (!c.ports?.length) {
        group.targets.push({ __address__: ip, ...common });
        continue;
      }
      for (const p of c.ports) {
        group.targets.push({
          __address__: joinHostPort(ip, p.containerPort),
          ...common,
          [`${META}pod_container_port_name`]: p.name ?? '',
          [`${META}pod_container_port_number`]: String(p.containerPort),
          [`${META}pod_container_port_protocol`]: p.protocol ?? 'TCP',
        });
      }
    }
  };
  add(pod.spec?.containers ?? [], false);
  add(pod.spec?.initContainers ?? [], true);
  return group;
}

export function serviceSource(namespace: string, name: string): string {
  return `svc/${namespace}/${name}`;
}

/** The Service labels of the service role and of endpoints targets (name, labels, annotations). */
export function serviceLabels(svc: KubeObject): Record<string, string> {
  const out: Record<string, string> = {
    [`${META}service_name`]: svc.metadata.name,
    [`${META}namespace`]: svc.metadata.namespace ?? 'default',
  };
  addObjectMeta(out, 'service', svc.metadata);
  return out;
}

/** role: service — one target per Service port, address `<name>.<namespace>.svc:<port>`. */
export function serviceTargetGroup(svc: KubeObject): TargetGroup {
  const ns = svc.metadata.namespace ?? 'default';
  const type: string = svc.spec?.type ?? 'ClusterIP';
  const group: TargetGroup = {
    source: serviceSource(ns, svc.metadata.name),
    labels: { ...serviceLabels(svc) },
    targets: [],
  };
  for (const p of svc.spec?.ports ?? []) {
    const host = type === 'ExternalName' ? svc.spec.externalName : `${svc.metadata.name}.${ns}.svc`;
    const target: Record<string, string> = {
      __address__: joinHostPort(host, p.port),
      [`${META}service_port_name`]: p.name ?? '',
      [`${META}service_port_number`]: String(p.port),
      [`${META}service_port_protocol`]: p.protocol ?? 'TCP',
      [`${META}service_type`]: type,
    };
    if (type === 'ExternalName') target[`${META}service_external_name`] = svc.spec.externalName ?? '';
    else target[`${META}service_cluster_ip`] = svc.spec?.clusterIP ?? '';
    if (type === 'LoadBalancer') {
      const ip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
      if (ip) target[`${META}service_loadbalancer_ip`] = ip;
    }
    group.targets.push(target);
  }
  return group;
}

export function endpointsSource(namespace: string, name: string): string {
  return `endpoints/${namespace}/${name}`;
}

export interface EndpointsLookups {
  /** The Service of the same name, when it exists. */
  service?: KubeObject;
  /** A pod an address refers to (targetRef kind Pod). */
  pod(namespace: string, name: string): KubeObject | undefined;
  /** The node an address runs on (attach_metadata.node). */
  node?(name: string): KubeObject | undefined;
}

function nodeMetaLabels(node: KubeObject): Record<string, string> {
  const out: Record<string, string> = { [`${META}node_name`]: node.metadata.name };
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    const ln = sanitizeLabelName(k);
    out[`${META}node_label_${ln}`] = v;
    out[`${META}node_labelpresent_${ln}`] = PRESENT;
  }
  return out;
}

/**
 * role: endpoints — one target per address and port of the Endpoints, ready ones and not-ready
 * ones (`endpoint_ready`), with the Service's labels and, for addresses backed by a pod, the pod's
 * labels and those of the container port that matches; container ports of those pods that no
 * endpoint port covers become targets of their own.
 */
export function endpointsTargetGroup(eps: KubeObject, lookups: EndpointsLookups): TargetGroup {
  const ns = eps.metadata.namespace ?? 'default';
  const group: TargetGroup = {
    source: endpointsSource(ns, eps.metadata.name),
    labels: { [`${META}namespace`]: ns, [`${META}endpoints_name`]: eps.metadata.name },
    targets: [],
  };
  if (lookups.service) Object.assign(group.labels, serviceLabels(lookups.service));
  addObjectMeta(group.labels, 'endpoints', eps.metadata);
  const seenPods: Map<string, { pod: KubeObject; ports: number[] }> = new Map();
  const add = (addr: any, port: any, ready: string) => {
    const target: Record<string, string> = {
      __address__: joinHostPort(addr.ip, port.port),
      [`${META}endpoint_port_name`]: port.name ?? '',
      [`${META}endpoint_port_protocol`]: port.protocol ?? 'TCP',
      [`${META}endpoint_ready`]: ready,
    };
    if (addr.targetRef) {
      target[`${META}endpoint_address_target_kind`] = addr.targetRef.kind ?? '';
      target[`${META}endpoint_address_target_name`] = addr.targetRef.name ?? '';
    }
    if (addr.nodeName) target[`${META}endpoint_node_name`] = addr.nodeName;
    if (addr.hostname) target[`${META}endpoint_hostname`] = addr.hostname;
    if (lookups.node && addr.nodeName) {
      const node = lookups.node(addr.nodeName);
      if (node) Object.assign(target, nodeMetaLabels(node));
    }
    const ref = addr.targetRef;
    const pod = ref?.kind === 'Pod' ? lookups.pod(ref.namespace ?? ns, ref.name) : undefined;
    if (!pod) {
      group.targets.push(target);
      return;
    }
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    let seen = seenPods.get(key);
    if (!seen) {
      seen = { pod, ports: [] };
      seenPods.set(key, seen);
    }
    Object.assign(target, podLabels(pod));
    outer: for (const c of pod.spec?.containers ?? []) {
      for (const cp of c.ports ?? []) {
        if (cp.containerPort !== port.port) continue;
        target[`${META}pod_container_name`] = c.name;
        target[`${META}pod_container_image`] = c.image ?? '';
        target[`${META}pod_container_port_name`] = cp.name ?? '';
        target[`${META}pod_container_port_number`] = String(port.port);
        target[`${META}pod_container_port_protocol`] = port.protocol ?? 'TCP';
        break outer;
      }
    }
    seen.ports.push(port.port);
    group.targets.push(target);
  };
  for (const subset of (eps['subsets'] as any[] | undefined) ?? []) {
    for (const port of subset.ports ?? []) {
      for (const addr of subset.addresses ?? []) add(addr, port, 'true');
      for (const addr of subset.notReadyAddresses ?? []) add(addr, port, 'false');
    }
  }
  for (const { pod, ports } of seenPods.values()) {
    for (const c of pod.spec?.containers ?? []) {
      for (const cp of c.ports ?? []) {
        if (ports.includes(cp.containerPort)) continue;
        group.targets.push({
          __address__: joinHostPort(pod.status?.podIP ?? '', cp.containerPort),
          [`${META}pod_container_name`]: c.name,
          [`${META}pod_container_image`]: c.image ?? '',
          [`${META}pod_container_port_name`]: cp.name ?? '',
          [`${META}pod_container_port_number`]: String(cp.containerPort),
          [`${META}pod_container_port_protocol`]: cp.protocol ?? 'TCP',
          ...podLabels(pod),
        });
      }
    }
  }
  return group;
}

export function nodeSource(name: string): string {
  return `node/${name}`;
}

const NODE_ADDRESS_ORDER = [
  'InternalIP',
  'InternalDNS',
  'ExternalIP',
  'ExternalDNS',
  'LegacyHostIP',
  'Hostname',
];

/**
 * role: node — one target per node at the kubelet's port, address from the first of InternalIP,
 * InternalDNS, ExternalIP, ExternalDNS, LegacyHostIP, Hostname; `instance` is the node's name.
 */
export function nodeTargetGroup(node: KubeObject): TargetGroup {
  const group: TargetGroup = { source: nodeSource(node.metadata.name), labels: {}, targets: [] };
  const addresses: Array<{ type: string; address: string }> = node.status?.addresses ?? [];
  let address: string | undefined;
  for (const type of NODE_ADDRESS_ORDER) {
    address = addresses.find((a) => a.type === type)?.address;
    if (address) break;
  }
  if (!address) return group;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
  const target: Record<string, string> = {
    __address__: joinHostPort(address, port),
    instance: node.metadata.name,
    [`${META}node_name`]: node.metadata.name,
    [`${META}node_provider_id`]: node.spec?.providerID ?? '',
  };
  addObjectMeta(target, 'node', node.metadata);
  for (const a of addresses) {
    const key = `${META}node_address_${a.type}`;
    if (!(key in target)) target[key] = a.address;
  }
  group.targets.push(target);
  return group;
}
