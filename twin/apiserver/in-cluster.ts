import type { KubeObject } from '../../kube/object.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { ServiceAccountTokens } from './auth/service-account-tokens.ts';

/** The namespaces every cluster has from the start. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export function systemNamespace(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

/**
 * The `kubernetes` Service in `default`, as kube-apiserver keeps it: port 443 (https) to the API
 * server, no selector (its Endpoints name the API server's address).
 * See https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/
 */
export function kubernetesService(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { component: 'apiserver', provider: 'kubernetes' },
    },
    spec: {
      type: 'ClusterIP',
      sessionAffinity: 'None',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
    },
  };
}

/** Points the `kubernetes` Service at the API server's address (its targetPort, and the Endpoints kube-apiserver maintains). */
export function publishApiServerEndpoints(store: ObjectStore, host: string, port: number): void {
  store.patch({ apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'kubernetes' }, (svc) => {
    svc.spec.ports = [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }];
  });
  const endpoints: KubeObject = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
    },
    subsets: [{ addresses: [{ ip: host }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  };
  const ref = { apiVersion: 'v1', kind: 'Endpoints', namespace: 'default', name: 'kubernetes' };
  if (store.peek(ref))
    store.patch(ref, (e) => {
      e['subsets'] = endpoints['subsets'];
    });
  else store.create(endpoints);
}

/**
 * The files of a pod's projected service account volume (token, ca.crt, namespace), as the kubelet
 * writes them: a token bound to the pod for its ServiceAccount (3607 s, the kubelet's default);
 * none when automountServiceAccountToken is false (on the pod, else on the ServiceAccount) or the
 * ServiceAccount does not exist.
 *
 * Twin simplification: the pod spec does not get the `kube-api-access-*` projected volume the
 * ServiceAccount admission plugin adds, and the kubelet does not rotate the token (it lasts an hour).
 */
export function serviceAccountFiles(
  store: ObjectStore,
  tokens: ServiceAccountTokens,
  caPem: string,
  pod: KubeObject,
): Record<string, string> | undefined {
  const namespace = pod.metadata.namespace ?? 'default';
  const name = pod.spec?.serviceAccountName ?? pod.spec?.serviceAccount ?? 'default';
  const sa = store.peek({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name });
  if (!sa) return undefined;
  const automount = pod.spec?.automountServiceAccountToken ?? sa['automountServiceAccountToken'] ?? true;
  if (automount === false) return undefined;
  const live = store.peek({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod.metadata.name });
  const { token } = tokens.issue({
    namespace,
    serviceAccount: { name, uid: sa.metadata.uid! },
    pod: { name: pod.metadata.name, uid: live?.metadata.uid ?? pod.metadata.uid! },
    expirationSeconds: 3607,
  });
  return { token, 'ca.crt': caPem, namespace };
}
