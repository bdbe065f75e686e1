import path from 'node:path';

/** How the k3d environment installs an add-on release (the exact upstream artefact, pinned). */
export type AddonInstall =
  /** `kubectl apply --server-side` of a release manifest; namespaced objects without one go to `namespace`. */
  | { kind: 'manifest'; url: string; namespace?: string }
  /** `helm upgrade --install` of a chart version from its repository. */
  | {
      kind: 'helm';
      release: string;
      chart: string;
      repo: string;
      version: string;
      namespace: string;
      set?: Record<string, string>;
    };

export interface AddonRelease {
  /** The controller and its CRDs. */
  install: AddonInstall;
  /** The CRDs alone, for a system whose manifests deploy the controller themselves. */
  crdsOnly?: AddonInstall;
  /** Namespace whose Deployments are the controller (waited for on k3d). */
  controllerNamespace: string;
}

export interface AddonEntry {
  name: string;
  title: string;
  /** API groups of its custom resources. */
  groups: string[];
  /** Type keys ("argoproj.io/Rollout") of the kinds the twin's own controller for it reconciles; empty: stored only. */
  twinReconciles: string[];
  /** Image repositories of the controller, checked against a system that deploys it in its manifests. */
  controllerImages: string[];
  /** The API reference the catalogue's CRDs were written from. */
  reference: string;
  releases: Record<string, AddonRelease>;
  /** The cloud whose APIs (and IAM roles for service accounts) the controller needs: it cannot run elsewhere. */
  cloud?: 'aws';
  /** Distributions that ship it themselves (k3s packages metrics-server): a cluster of those does not install it again. */
  packagedBy?: readonly 'k3s'[];
  /** Aggregated APIs it serves (metrics-server: metrics.k8s.io). */
  apis?: readonly string[];
  /** The Ingress controller it is (`spec.controller` of the IngressClasses it serves) and the class its install creates. */
  ingress?: { controller: string; ingressClass: string };
}

/** The folder of a release's CRDs: system/addons/<name>/<version>/. */
export function crdDir(name: string, version: string): string {
  return path.join(import.meta.dirname, name, version);
}

/**
 * The platform add-ons the twin knows, per pinned release. Adding a release is adding its CRD folder
 * and an entry here (docs/kubernetes-api.md, "Add-ons").
 */
export const ADDON_CATALOGUE: readonly AddonEntry[] = [
  {
    name: 'argo-rollouts',
    title: 'Argo Rollouts',
    groups: ['argoproj.io'],
    twinReconciles: ['argoproj.io/Rollout', 'argoproj.io/AnalysisRun'],
    controllerImages: ['quay.io/argoproj/argo-rollouts'],
    reference: 'https://argo-rollouts.readthedocs.io/en/release-1.8/features/specification/',
    releases: {
      'v1.8.3': {
        install: {
          kind: 'manifest',
          url: 'https://github.com/argoproj/argo-rollouts/releases/download/v1.8.3/install.yaml',
          namespace: 'argo-rollouts',
        },
        controllerNamespace: 'argo-rollouts',
      },
    },
  },
  {
    name: 'cloudnative-pg',
    title: 'CloudNativePG',
    groups: ['postgresql.cnpg.io'],
    twinReconciles: ['postgresql.cnpg.io/Cluster', 'postgresql.cnpg.io/Pooler'],
    controllerImages: ['ghcr.io/cloudnative-pg/cloudnative-pg'],
    reference: 'https://cloudnative-pg.io/documentation/1.30/cloudnative-pg.v1/',
    releases: {
      '1.30.0': {
        install: {
          kind: 'manifest',
          url: 'https://raw.githubusercontent.com/cloudnative-pg/cloudnative-pg/release-1.30/releases/cnpg-1.30.0.yaml',
        },
        controllerNamespace: 'cnpg-system',
      },
    },
  },
  {
    name: 'redis-operator',
    title: 'OT redis-operator',
    groups: ['redis.redis.opstreelabs.in'],
    twinReconciles: ['redis.redis.opstreelabs.in/RedisCluster'],
    controllerImages: [
      'quay.io/opstree/redis-operator',
      'ghcr.io/ot-container-kit/redis-operator/redis-operator',
    ],
    reference: 'https://redis-operator.opstree.dev/docs/crd-reference/redis-api/',
    releases: {
      'v0.23.0': {
        install: {
          kind: 'helm',
          release: 'redis-operator',
          chart: 'redis-operator',
          repo: 'https://ot-container-kit.github.io/helm-charts',
          version: '0.23.0',
          namespace: 'ot-operators',
        },
        controllerNamespace: 'ot-operators',
      },
    },
  },
  {
    name: 'cert-manager',
    title: 'cert-manager',
    groups: ['cert-manager.io', 'acme.cert-manager.io'],
    twinReconciles: [],
    controllerImages: [
      'quay.io/jetstack/cert-manager-controller',
      'quay.io/jetstack/cert-manager-webhook',
      'quay.io/jetstack/cert-manager-cainjector',
    ],
    reference: 'https://cert-manager.io/v1.15-docs/reference/api-docs/',
    releases: {
      'v1.15.3': {
        install: {
          kind: 'manifest',
          url: 'https://github.com/cert-manager/cert-manager/releases/download/v1.15.3/cert-manager.yaml',
        },
        crdsOnly: {
          kind: 'manifest',
          url: 'https://github.com/cert-manager/cert-manager/releases/download/v1.15.3/cert-manager.crds.yaml',
        },
        controllerNamespace: 'cert-manager',
      },
    },
  },
  {
    name: 'aws-load-balancer-controller',
    title: 'AWS Load Balancer Controller',
    groups: ['elbv2.k8s.aws'],
    cloud: 'aws',
    // The chart creates IngressClass alb (createIngressClassResource, ingressClass: alb).
    ingress: { controller: 'ingress.k8s.aws/alb', ingressClass: 'alb' },
    // The twin's IngressProxy plays the controller for Ingresses (twin/network); its CRDs are stored only.
    twinReconciles: [],
    controllerImages: ['public.ecr.aws/eks/aws-load-balancer-controller'],
    reference:
      'https://kubernetes-sigs.github.io/aws-load-balancer-controller/v2.8/guide/targetgroupbinding/spec/',
    releases: {
      'v2.8.2': {
        install: {
          kind: 'helm',
          release: 'aws-load-balancer-controller',
          chart: 'aws-load-balancer-controller',
          repo: 'https://aws.github.io/eks-charts',
          version: '1.8.2',
          namespace: 'kube-system',
        },
        crdsOnly: {
          kind: 'manifest',
          url: 'https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/v2.8.2/helm/aws-load-balancer-controller/crds/crds.yaml',
        },
        controllerNamespace: 'kube-system',
      },
    },
  },
  {
    name: 'external-secrets',
    title: 'External Secrets Operator',
    groups: ['external-secrets.io'],
    twinReconciles: [],
    controllerImages: ['ghcr.io/external-secrets/external-secrets'],
    reference: 'https://external-secrets.io/v0.10.3/api/spec/',
    releases: {
      'v0.10.3': {
        install: {
          kind: 'helm',
          release: 'external-secrets',
          chart: 'external-secrets',
          repo: 'https://charts.external-secrets.io',
          version: '0.10.3',
          namespace: 'external-secrets',
        },
        controllerNamespace: 'external-secrets',
      },
    },
  },
  {
    name: 'metrics-server',
    title: 'metrics-server',
    // No CRDs: it serves metrics.k8s.io through an APIService (system/addons/metrics-server/v0.7.2/README.md).
    groups: [],
    twinReconciles: [],
    controllerImages: ['registry.k8s.io/metrics-server/metrics-server'],
    reference: 'https://github.com/kubernetes-sigs/metrics-server/releases/tag/v0.7.2',
    packagedBy: ['k3s'],
    apis: ['metrics.k8s.io'],
    releases: {
      'v0.7.2': {
        install: {
          kind: 'manifest',
          url: 'https://github.com/kubernetes-sigs/metrics-server/releases/download/v0.7.2/components.yaml',
        },
        controllerNamespace: 'kube-system',
      },
    },
  },
  {
    name: 'chaos-mesh',
    title: 'Chaos Mesh',
    groups: ['chaos-mesh.org'],
    // The twin plays the chaos objects of an experiment with its own faults (harness/chaos, docs/chaos.md);
    // applied to the twin's API they are stored only.
    twinReconciles: [],
    controllerImages: ['ghcr.io/chaos-mesh/chaos-mesh', 'ghcr.io/chaos-mesh/chaos-daemon'],
    reference: 'https://chaos-mesh.org/docs/',
    releases: {
      'v2.8.2': {
        // k3s runs containerd with its socket under /run/k3s (Chaos Mesh's K3s installation notes).
        install: {
          kind: 'helm',
          release: 'chaos-mesh',
          chart: 'chaos-mesh',
          repo: 'https://charts.chaos-mesh.org',
          version: '2.8.2',
          namespace: 'chaos-mesh',
          set: {
            'chaosDaemon.runtime': 'containerd',
            'chaosDaemon.socketPath': '/run/k3s/containerd/containerd.sock',
            'dashboard.create': 'false',
          },
        },
        controllerNamespace: 'chaos-mesh',
      },
    },
  },
  {
    name: 'istio',
    title: 'Istio',
    groups: ['networking.istio.io'],
    // The twin plays VirtualService, DestinationRule and Gateway with its traffic-policy engine
    // (twin/traffic-policy, docs/traffic-policy.md): at the Service proxy for mesh traffic, and at the
    // ingress gateway Service istio-system/istio-ingressgateway that Istio's default install creates.
    twinReconciles: [
      'networking.istio.io/VirtualService',
      'networking.istio.io/DestinationRule',
      'networking.istio.io/Gateway',
    ],
    controllerImages: ['docker.io/istio/pilot', 'docker.io/istio/proxyv2'],
    reference: 'https://istio.io/v1.24/docs/reference/config/networking/',
    releases: {
      '1.24.3': {
        // istiod from Istio's chart repository; its CRDs come with the `base` chart (crdsOnly).
        install: {
          kind: 'helm',
          release: 'istiod',
          chart: 'istiod',
          repo: 'https://istio-release.storage.googleapis.com/charts',
          version: '1.24.3',
          namespace: 'istio-system',
        },
        crdsOnly: {
          kind: 'helm',
          release: 'istio-base',
          chart: 'base',
          repo: 'https://istio-release.storage.googleapis.com/charts',
          version: '1.24.3',
          namespace: 'istio-system',
        },
        controllerNamespace: 'istio-system',
      },
    },
  },
];

export function catalogueEntry(name: string): AddonEntry | undefined {
  return ADDON_CATALOGUE.find((a) => a.name === name);
}

/** The catalogued add-on whose custom resources are in `group`, if any. */
export function addonOfGroup(group: string): AddonEntry | undefined {
  return ADDON_CATALOGUE.find((a) => a.groups.includes(group));
}
