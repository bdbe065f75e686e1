/**
 * Plain Kubernetes objects as they pass through the twin: the same JSON shapes as the API server's
 * (metadata, spec, status), typed loosely so that every kind, known or not, can be stored.
 */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  generateName?: string;
  /** Server-side apply's record of which manager set which fields. */
  managedFields?: ManagedFieldsEntry[];
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface KubeObject<Spec = any, Status = any> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
  [field: string]: unknown;
}

/** Identifies an object: kind (with apiVersion where the kind name alone is ambiguous), namespace, name. */
export interface ObjectRef {
  apiVersion?: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** API group of an apiVersion: "apps/v1" → "apps", "v1" → "". */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Kinds the twin knows by name alone, so that refs may omit apiVersion. */
const DEFAULT_GROUPS: Record<string, string> = {
  Pod: '',
  Service: '',
  Endpoints: '',
  ConfigMap: '',
  Secret: '',
  Namespace: '',
  Node: '',
  Event: '',
  ServiceAccount: '',
  PersistentVolumeClaim: '',
  PersistentVolume: '',
  ResourceQuota: '',
  LimitRange: '',
  Deployment: 'apps',
  ReplicaSet: 'apps',
  StatefulSet: 'apps',
  DaemonSet: 'apps',
  Job: 'batch',
  CronJob: 'batch',
  HorizontalPodAutoscaler: 'autoscaling',
  PodDisruptionBudget: 'policy',
  Ingress: 'networking.k8s.io',
  IngressClass: 'networking.k8s.io',
  NetworkPolicy: 'networking.k8s.io',
  EndpointSlice: 'discovery.k8s.io',
  StorageClass: 'storage.k8s.io',
  Rollout: 'argoproj.io',
  AnalysisTemplate: 'argoproj.io',
  ClusterAnalysisTemplate: 'argoproj.io',
  AnalysisRun: 'argoproj.io',
};

/** Group-qualified kind used as the store's type key: "apps/Deployment", "/Pod" for the core group. */
export function typeKey(ref: { apiVersion?: string; kind: string }): string {
  const group = ref.apiVersion !== undefined ? groupOf(ref.apiVersion) : (DEFAULT_GROUPS[ref.kind] ?? '');
  return `${group}/${ref.kind}`;
}

export function objectKey(ref: ObjectRef | KubeObject): string {
  const r: ObjectRef = 'metadata' in ref ? refOf(ref as KubeObject) : (ref as ObjectRef);
  return `${typeKey(r)}:${r.namespace ?? ''}/${r.name}`;
}

export function refOf(obj: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name };
  if (obj.metadata.namespace !== undefined) ref.namespace = obj.metadata.namespace;
  return ref;
}

/** "Deployment production/api" — how messages name an object. */
export function describeObject(obj: ObjectRef | KubeObject): string {
  const r: ObjectRef = 'metadata' in obj ? refOf(obj as KubeObject) : (obj as ObjectRef);
  return r.namespace ? `${r.kind} ${r.namespace}/${r.name}` : `${r.kind} ${r.name}`;
}

/** The controller owner reference of an object, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((o) => o.controller);
}

export function ownerReferenceTo(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}
