import type { KubeObject } from '../../kube/object.ts';
import type { ObjectStore } from '../store/object-store.ts';

/** Raised when a container's env cannot be built: the kubelet reports CreateContainerConfigError. */
export class ContainerConfigError extends Error {}

/**
 * The environment a container starts with, built as the kubelet does: service link variables,
 * envFrom (ConfigMaps, Secrets, with prefix), then env (values with $(VAR) expansion, fieldRef,
 * resourceFieldRef, configMapKeyRef, secretKeyRef); later entries win.
 */
export function containerEnvironment(
  store: ObjectStore,
  pod: KubeObject,
  container: any,
): Record<string, string> {
  const ns = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = {};
  if (pod.spec?.enableServiceLinks !== false) Object.assign(env, serviceLinks(store, ns));
  Object.assign(env, masterServiceLinks(store));
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = store.get({ kind: 'ConfigMap', namespace: ns, name: from.configMapRef.name });
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries((cm['data'] as Record<string, string>) ?? {})) env[prefix + k] = v;
    }
    if (from.secretRef) {
      const data = secretData(store, ns, from.secretRef.name);
      if (!data) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = expand(String(e.value), env);
      continue;
    }
    const from = e.valueFrom;
    if (!from) {
      env[e.name] = '';
    } else if (from.fieldRef) {
      env[e.name] = fieldRef(pod, from.fieldRef.fieldPath);
    } else if (from.resourceFieldRef) {
      env[e.name] = resourceFieldRef(container, from.resourceFieldRef);
    } else if (from.configMapKeyRef) {
      const cm = store.get({ kind: 'ConfigMap', namespace: ns, name: from.configMapKeyRef.name });
      const v = (cm?.['data'] as Record<string, string> | undefined)?.[from.configMapKeyRef.key];
      if (v === undefined) {
        if (from.configMapKeyRef.optional) continue;
        throw new ContainerConfigError(
          `couldn't find key ${from.configMapKeyRef.key} in ConfigMap ${ns}/${from.configMapKeyRef.name}`,
        );
      }
      env[e.name] = v;
    } else if (from.secretKeyRef) {
      const v = secretData(store, ns, from.secretKeyRef.name)?.[from.secretKeyRef.key];
      if (v === undefined) {
        if (from.secretKeyRef.optional) continue;
        throw new ContainerConfigError(
          `couldn't find key ${from.secretKeyRef.key} in Secret ${ns}/${from.secretKeyRef.name}`,
        );
      }
      env[e.name] = v;
    }
  }
  return env;
}

/** $(VAR) references expand from earlier variables; $$(VAR) escapes; unknown references stay as written. */
export function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && Object.hasOwn(env, name) ? env[name]! : m;
  });
}

function fieldRef(pod: KubeObject, fieldPath: string): string {
  const labelMatch = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (labelMatch) return (pod.metadata as any)[labelMatch[1]!]?.[labelMatch[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.podIPs':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
      return pod.status?.hostIP ?? '';
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath "${fieldPath}"`);
  }
}

function resourceFieldRef(container: any, ref: { resource: string; divisor?: string }): string {
  const [kind, name] = ref.resource.split('.') as [string, string];
  const raw = container.resources?.[kind]?.[name];
  return raw === undefined ? '0' : String(raw);
}

function secretData(store: ObjectStore, ns: string, name: string): Record<string, string> | undefined {
  const secret = store.get({ kind: 'Secret', namespace: ns, name });
  if (!secret) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret['data'] as Record<string, string>) ?? {}))
    out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries((secret['stringData'] as Record<string, string>) ?? {})) out[k] = v;
  return out;
}

/**
 * The `kubernetes` Service's variables, which every container gets whatever its namespace and
 * enableServiceLinks say (KUBERNETES_SERVICE_HOST/_PORT: how in-cluster clients find the API server).
 */
function masterServiceLinks(store: ObjectStore): Record<string, string> {
  const svc = store.peek({ apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'kubernetes' });
  const ip = svc?.spec?.clusterIP;
  const port = svc?.spec?.ports?.[0];
  if (!ip || ip === 'None' || !port) return {};
  const proto = String(port.protocol ?? 'TCP');
  const addr = `${proto.toLowerCase()}://${ip}:${port.port}`;
  const key = `KUBERNETES_PORT_${port.port}_${proto}`;
  return {
    KUBERNETES_SERVICE_HOST: ip,
    KUBERNETES_SERVICE_PORT: String(port.port),
    ...(port.name
      ? { [`KUBERNETES_SERVICE_PORT_${String(port.name).toUpperCase()}`]: String(port.port) }
      : {}),
    KUBERNETES_PORT: addr,
    [key]: addr,
    [`${key}_PROTO`]: proto.toLowerCase(),
    [`${key}_PORT`]: String(port.port),
    [`${key}_ADDR`]: ip,
  };
}

/** Docker-link style variables for every Service in the namespace (enableServiceLinks). */
function serviceLinks(store: ObjectStore, ns: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const svc of store.list({ kind: 'Service' }, { namespace: ns })) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const prefix = svc.metadata.name.toUpperCase().replaceAll('-', '_');
    const ports = svc.spec?.ports ?? [];
    if (ports.length === 0) continue;
    env[`${prefix}_SERVICE_HOST`] = ip;
    env[`${prefix}_SERVICE_PORT`] = String(ports[0].port);
    for (const p of ports) {
      if (p.name)
        env[`${prefix}_SERVICE_PORT_${String(p.name).toUpperCase().replaceAll('-', '_')}`] = String(p.port);
    }
  }
  return env;
}
