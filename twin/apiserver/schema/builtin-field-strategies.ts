/**
 * How the built-in types' lists, maps and structs merge: the `patchStrategy` / `patchMergeKey`
 * struct tags (strategic merge patch) and the `+listType` / `+listMapKey` / `+mapType` /
 * `+structType` markers (server-side apply) of k8s.io/api for Kubernetes v1.34, as the API reference
 * prints them ("Patch strategy: merge on key `name`", "Map: unique values on key name will be kept
 * during a merge"). Keyed by "<client-node model>.<field>"; type-wide markers by the model alone.
 * Lists not listed here are atomic, maps granular, structs granular.
 * See https://kubernetes.io/docs/reference/kubernetes-api/ and
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/#merge-strategy
 */
export interface FieldStrategy {
  /** x-kubernetes-patch-strategy: "merge", "retainKeys", "merge,retainKeys", "replace". */
  patchStrategy?: string;
  /** x-kubernetes-patch-merge-key. */
  patchMergeKey?: string;
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: string[];
  /** Maps and structs: atomic ones are owned and replaced as a whole. */
  mapType?: 'atomic' | 'granular';
}

const byKey = (key: string, keys: string[] = [key]): FieldStrategy => ({
  patchStrategy: 'merge',
  patchMergeKey: key,
  listType: 'map',
  listMapKeys: keys,
});
const conditions = byKey('type');
const atomic: FieldStrategy = { listType: 'atomic' };
const atomicMap: FieldStrategy = { mapType: 'atomic' };

const CONTAINER: Record<string, FieldStrategy> = {
  command: atomic,
  args: atomic,
  ports: byKey('containerPort', ['containerPort', 'protocol']),
  envFrom: atomic,
  env: byKey('name'),
  volumeMounts: byKey('mountPath'),
  volumeDevices: byKey('devicePath'),
  resizePolicy: atomic,
  restartPolicyRules: atomic,
};

function fields(model: string, table: Record<string, FieldStrategy>): [string, FieldStrategy][] {
  return Object.entries(table).map(([f, s]) => [`${model}.${f}`, s]);
}

export const BUILTIN_FIELD_STRATEGIES: Readonly<Record<string, FieldStrategy>> = Object.fromEntries([
  // metav1
  ['V1ObjectMeta.finalizers', { patchStrategy: 'merge', listType: 'set' }],
  ['V1ObjectMeta.ownerReferences', byKey('uid')],
  ['V1ObjectMeta.managedFields', atomic],
  ['V1LabelSelector', atomicMap],
  ['V1LabelSelector.matchExpressions', atomic],
  // core/v1 Pod
  ...fields('V1PodSpec', {
    volumes: { ...byKey('name'), patchStrategy: 'merge,retainKeys' },
    initContainers: byKey('name'),
    containers: byKey('name'),
    ephemeralContainers: byKey('name'),
    imagePullSecrets: byKey('name'),
    hostAliases: byKey('ip'),
    tolerations: atomic,
    readinessGates: atomic,
    topologySpreadConstraints: byKey('topologyKey', ['topologyKey', 'whenUnsatisfiable']),
    schedulingGates: byKey('name'),
    resourceClaims: { ...byKey('name'), patchStrategy: 'merge,retainKeys' },
    nodeSelector: atomicMap,
  }),
  ...fields('V1Container', CONTAINER),
  ...fields('V1EphemeralContainer', CONTAINER),
  ...fields('V1PodStatus', {
    conditions,
    podIPs: byKey('ip'),
    hostIPs: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'atomic' },
    initContainerStatuses: atomic,
    containerStatuses: atomic,
    ephemeralContainerStatuses: atomic,
    resourceClaimStatuses: { ...byKey('name'), patchStrategy: 'merge,retainKeys' },
  }),
  ['V1PodSecurityContext.supplementalGroups', atomic],
  ['V1PodSecurityContext.sysctls', atomic],
  ['V1PodDNSConfig.nameservers', atomic],
  ['V1PodDNSConfig.searches', atomic],
  ['V1PodDNSConfig.options', atomic],
  ['V1NodeSelector', atomicMap],
  ['V1NodeSelectorTerm', atomicMap],
  ['V1ObjectReference', atomicMap],
  ['V1LocalObjectReference', atomicMap],
  ['V1TypedLocalObjectReference', atomicMap],
  ['V1ConfigMapKeySelector', atomicMap],
  ['V1SecretKeySelector', atomicMap],
  ['V1ObjectFieldSelector', atomicMap],
  ['V1ResourceFieldSelector', atomicMap],
  ['V1ConfigMapEnvSource', atomicMap],
  ['V1SecretEnvSource', atomicMap],
  ['V1SecretReference', atomicMap],
  ['V1TopologySelectorTerm', atomicMap],
  // core/v1 others
  ...fields('V1ServiceSpec', {
    ports: byKey('port', ['port', 'protocol']),
    selector: atomicMap,
    clusterIPs: atomic,
    externalIPs: atomic,
    ipFamilies: atomic,
    loadBalancerSourceRanges: atomic,
  }),
  ['V1ServiceStatus.conditions', conditions],
  ['V1LoadBalancerStatus.ingress', atomic],
  ['V1NodeSpec.podCIDRs', { patchStrategy: 'merge', listType: 'set' }],
  ['V1NodeSpec.taints', atomic],
  ...fields('V1NodeStatus', {
    addresses: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'atomic' },
    conditions,
    images: atomic,
    volumesInUse: atomic,
    volumesAttached: atomic,
  }),
  ['V1NamespaceSpec.finalizers', atomic],
  ['V1NamespaceStatus.conditions', conditions],
  ['V1PersistentVolumeClaimStatus.conditions', conditions],
  ['V1PersistentVolumeClaimSpec.accessModes', atomic],
  ['V1ReplicationControllerStatus.conditions', conditions],
  ['V1ReplicationControllerSpec.selector', atomicMap],
  ['V1ServiceAccount.secrets', byKey('name')],
  ['V1ServiceAccount.imagePullSecrets', atomic],
  ['V1ComponentStatus.conditions', byKey('type')],
  // apps/v1
  ['V1DeploymentSpec.strategy', { patchStrategy: 'retainKeys' }],
  ['V1DeploymentStatus.conditions', conditions],
  ['V1ReplicaSetStatus.conditions', conditions],
  ['V1StatefulSetStatus.conditions', conditions],
  ['V1StatefulSetSpec.volumeClaimTemplates', atomic],
  ['V1DaemonSetStatus.conditions', conditions],
  // batch/v1
  ['V1JobStatus.conditions', { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'atomic' }],
  ['V1CronJobStatus.active', atomic],
  // autoscaling/v2
  ['V2HorizontalPodAutoscalerSpec.metrics', atomic],
  ['V2HorizontalPodAutoscalerStatus.conditions', conditions],
  ['V2HorizontalPodAutoscalerStatus.currentMetrics', atomic],
  // policy/v1
  ['V1PodDisruptionBudgetSpec.selector', { patchStrategy: 'replace' }],
  ['V1PodDisruptionBudgetStatus.conditions', conditions],
  // apiextensions.k8s.io/v1, apiregistration, certificates, storage
  ['V1CustomResourceDefinitionStatus.conditions', conditions],
  ['V1APIServiceStatus.conditions', conditions],
  ['V1CertificateSigningRequestStatus.conditions', conditions],
  ['V1ServiceCIDRStatus.conditions', conditions],
  ['V1CSINodeSpec.drivers', byKey('name')],
]) as Record<string, FieldStrategy>;
