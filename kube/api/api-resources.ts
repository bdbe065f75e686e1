import generated from './builtin-resources.json' with { type: 'json' };

/** One resource of the API, as discovery (`kubectl api-resources`) describes it. */
export interface ApiResource {
  group: string;
  version: string;
  /** Plural name used in URLs ("deployments"). */
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  categories: string[];
  subresources: { name: string; kind: string; verbs: string[] }[];
  /** The client-node model of the kind (key into builtin-models.json); absent for custom resources. */
  model?: string;
}

/** The Kubernetes release whose OpenAPI document the built-in resources and models come from. */
export const KUBERNETES_VERSION: string = generated.kubernetesVersion;

/** Short names and categories are discovery data, not in the OpenAPI document: these are kube-apiserver's for the release above. */
const SHORT_NAMES: Record<string, string[]> = {
  '/configmaps': ['cm'],
  '/endpoints': ['ep'],
  '/events': ['ev'],
  '/limitranges': ['limits'],
  '/namespaces': ['ns'],
  '/nodes': ['no'],
  '/persistentvolumeclaims': ['pvc'],
  '/persistentvolumes': ['pv'],
  '/pods': ['po'],
  '/replicationcontrollers': ['rc'],
  '/resourcequotas': ['quota'],
  '/serviceaccounts': ['sa'],
  '/services': ['svc'],
  'apiextensions.k8s.io/customresourcedefinitions': ['crd', 'crds'],
  'apps/daemonsets': ['ds'],
  'apps/deployments': ['deploy'],
  'apps/replicasets': ['rs'],
  'apps/statefulsets': ['sts'],
  'autoscaling/horizontalpodautoscalers': ['hpa'],
  'batch/cronjobs': ['cj'],
  'certificates.k8s.io/certificatesigningrequests': ['csr'],
  'events.k8s.io/events': ['ev'],
  'networking.k8s.io/ingresses': ['ing'],
  'networking.k8s.io/networkpolicies': ['netpol'],
  'policy/poddisruptionbudgets': ['pdb'],
  'scheduling.k8s.io/priorityclasses': ['pc'],
  'storage.k8s.io/storageclasses': ['sc'],
};

const ALL = new Set([
  '/pods',
  '/replicationcontrollers',
  '/services',
  'apps/daemonsets',
  'apps/deployments',
  'apps/replicasets',
  'apps/statefulsets',
  'autoscaling/horizontalpodautoscalers',
  'batch/cronjobs',
  'batch/jobs',
]);

/** The built-in resources of the API server, GA versions only, as a default kube-apiserver serves them. */
export const BUILTIN_RESOURCES: readonly ApiResource[] = generated.resources.map((r) => {
  const key = `${r.group}/${r.name}`;
  return {
    group: r.group,
    version: r.version,
    name: r.name,
    singularName: r.kind.toLowerCase(),
    kind: r.kind,
    namespaced: r.namespaced,
    verbs: r.verbs,
    shortNames: SHORT_NAMES[key] ?? [],
    categories: ALL.has(key) ? ['all'] : [],
    subresources: r.subresources.map((s) => ({ name: s.name, kind: s.kind, verbs: s.verbs })),
    model: r.model,
  };
});
