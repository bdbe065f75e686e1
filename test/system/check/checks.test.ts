import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { catalogueAddon } from '../../../system/addons/addons-file.ts';
import { autoscalerMetricFindings } from '../../../system/check/autoscaler-metrics.ts';
import { backupCredentialFindings } from '../../../system/check/backup-credentials.ts';
import type { CheckContext } from '../../../system/check/check-context.ts';
import { disruptionBudgetFindings } from '../../../system/check/disruption-budgets.ts';
import { ingressClassFindings } from '../../../system/check/ingress-classes.ts';
import { ingressNetworkPolicyFindings } from '../../../system/check/ingress-network-policies.ts';
import { objectReferenceFindings } from '../../../system/check/object-references.ts';
import { serviceSelectorFindings } from '../../../system/check/service-selectors.ts';
import { storageClassFindings } from '../../../system/check/storage-classes.ts';
import { EKS_PROFILE, K3S_PROFILE } from '../../../system/profiles/profile-registry.ts';
import type { SystemLayout } from '../../../system/system.ts';
import { parseTopology } from '../../../system/topology/topology.ts';

const topology = parseTopology(
  `apiVersion: twin.dev/v1alpha1
kind: Topology
metadata: { name: t }
region: us-east-1
zones: [us-east-1a]
nodePools: [{ name: general, instanceType: m5.xlarge, nodesPerZone: 1 }]
storage:
  provisioners: [{ name: ebs.csi.aws.com, volumeTopology: zone }]
  storageClasses: [{ name: gp2, provisioner: kubernetes.io/aws-ebs, default: true }]
`,
  't.yaml',
);

/** A check context over plain objects (what the checks read; rendering is tested with the fixtures). */
function ctx(
  objects: KubeObject[],
  options: { profile?: typeof EKS_PROFILE; addons?: string[] } = {},
): CheckContext {
  const rendered = objects.map((object) => ({ object, source: 'x.yaml' }));
  const addons = (options.addons ?? []).map((a) => {
    const [name, version] = a.split('@') as [string, string];
    return catalogueAddon(name, version);
  });
  return {
    layout: { root: '/', dir: '/x', name: 'x' } as SystemLayout,
    overlay: 'local',
    profile: options.profile ?? EKS_PROFILE,
    rendered,
    objects,
    addons,
    leftOutAddons: [],
    addonsFile: 'addons.yaml',
    topology,
    bindings: undefined,
    at: (r) => ({ source: r.source }),
    atAddon: () => ({ source: 'addons.yaml' }),
  };
}

const deployment = (
  name: string,
  spec: Record<string, unknown>,
  container: Record<string, unknown> = {},
): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'app' },
  spec: {
    replicas: 4,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [
          { name: 'main', image: 'x:1', ports: [{ name: 'http', containerPort: 8080 }], ...container },
        ],
        ...spec,
      },
    },
  },
});
const service = (
  name: string,
  selector: Record<string, string>,
  targetPort: unknown = 'http',
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'app' },
  spec: { selector, ports: [{ name: 'http', port: 80, targetPort }] },
});
const messages = (fs: { severity: string; message: string }[]) =>
  fs.map((f) => `${f.severity}: ${f.message}`);

describe('twin check: the checks over plain objects', () => {
  it('references: volumes, ServiceAccounts, claims and keys that nothing makes; what add-ons make counts', () => {
    const objects: KubeObject[] = [
      deployment(
        'web',
        {
          serviceAccountName: 'web',
          volumes: [
            { name: 'cfg', configMap: { name: 'web-config' } },
            { name: 'ca', configMap: { name: 'kube-root-ca.crt' } },
            { name: 'opt', secret: { secretName: 'maybe', optional: true } },
            { name: 'data', persistentVolumeClaim: { claimName: 'web-data' } },
          ],
        },
        {
          env: [
            { name: 'A', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
            { name: 'B', valueFrom: { secretKeyRef: { name: 'from-store', key: 'token' } } },
            { name: 'C', valueFrom: { secretKeyRef: { name: 'db-app', key: 'uri' } } },
          ],
        },
      ),
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'creds', namespace: 'app' },
        stringData: { user: 'u' },
      },
      {
        apiVersion: 'external-secrets.io/v1beta1',
        kind: 'ExternalSecret',
        metadata: { name: 'from-store', namespace: 'app' },
        spec: { data: [{ secretKey: 'token', remoteRef: { key: 'k' } }] },
      },
      {
        apiVersion: 'postgresql.cnpg.io/v1',
        kind: 'Cluster',
        metadata: { name: 'db', namespace: 'app' },
        spec: {},
      },
    ];
    expect(
      messages(
        objectReferenceFindings(
          ctx(objects, { addons: ['external-secrets@v0.10.3', 'cloudnative-pg@1.30.0'] }),
        ),
      ),
    ).toEqual([
      'error: ServiceAccount app/web is not defined',
      'error: volume cfg: ConfigMap app/web-config is not defined (and nothing the cluster installs makes it)',
      'error: volume data: PersistentVolumeClaim app/web-data is not defined',
      'error: container main: env A: Secret app/creds has no key password (its keys: user)',
    ]);
    // without the add-ons, nothing makes their Secrets
    expect(messages(objectReferenceFindings(ctx(objects)))).toContain(
      'error: container main: env B: Secret app/from-store is not defined (and nothing the cluster installs makes it)',
    );
  });

  it('services: a named targetPort no selected container declares is an error', () => {
    const found = serviceSelectorFindings(
      ctx([deployment('web', {}), service('web', { app: 'web' }, 'metrics')]),
    );
    expect(messages(found)).toEqual([
      'error: targetPort "metrics" (TCP) is a port name that no container of the selected pods declares (Deployment app/web)',
    ]);
    expect(serviceSelectorFindings(ctx([deployment('web', {}), service('web', { app: 'web' })]))).toEqual([]);
  });

  it('ingress: a backend Service or port that does not exist; use-annotation outside the ALB', () => {
    const ingress = (cls: string, port: Record<string, unknown>, svc = 'web'): KubeObject => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: `i-${cls}-${svc}`, namespace: 'app' },
      spec: {
        ingressClassName: cls,
        rules: [
          { http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port } } }] } },
        ],
      },
    });
    const objects = [
      deployment('web', {}),
      service('web', { app: 'web' }),
      ingress('traefik', { name: 'use-annotation' }),
      ingress('traefik', { number: 80 }, 'nope'),
      ingress('traefik', { number: 8080 }),
      ingress('alb', { name: 'use-annotation' }, 'api'),
    ];
    expect(messages(ingressClassFindings(ctx(objects, { profile: K3S_PROFILE })))).toEqual([
      'error: Service app/web has no port named "use-annotation" (its ports: http:80); use-annotation is the AWS Load Balancer Controller\'s own, other controllers take it as a port name',
      'error: backend Service app/nope is not defined',
      'error: Service app/web has no port 8080 (its ports: http:80)',
      'error: IngressClass "alb" does not exist on the k3s cluster (its classes: traefik (traefik.io/ingress-controller, the k3s cluster))',
    ]);
    // the ALB's own port name, with its controller installed: served, not a missing port
    expect(
      messages(
        ingressClassFindings(
          ctx([ingress('alb', { name: 'use-annotation' }, 'web'), service('web', {})], {
            addons: ['aws-load-balancer-controller@v2.8.2'],
          }),
        ),
      ),
    ).toEqual([]);
  });

  it('network-policy: the k3d overlay’s re-pointed policy admits Traefik (namespaceSelector and podSelector in one peer)', () => {
    const objects: KubeObject[] = [
      deployment('web', {}),
      service('web', { app: 'web' }),
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'web', namespace: 'app' },
        spec: {
          ingressClassName: 'traefik',
          defaultBackend: { service: { name: 'web', port: { number: 80 } } },
        },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'deny', namespace: 'app' },
        spec: { podSelector: {} },
      },
    ];
    const admit = (peer: Record<string, unknown>, port: unknown): KubeObject => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow', namespace: 'app' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [peer], ports: [{ port }] }] },
    });
    const traefik = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } },
    };
    const k3s = { profile: K3S_PROFILE };
    expect(ingressNetworkPolicyFindings(ctx(objects, k3s))).toHaveLength(1);
    expect(ingressNetworkPolicyFindings(ctx([...objects, admit(traefik, 8080)], k3s))).toEqual([]);
    expect(ingressNetworkPolicyFindings(ctx([...objects, admit(traefik, 'http')], k3s))).toEqual([]);
    // the right pods on the wrong port, or the right namespace with other pods, do not admit it
    expect(ingressNetworkPolicyFindings(ctx([...objects, admit(traefik, 9090)], k3s))).toHaveLength(1);
    expect(
      ingressNetworkPolicyFindings(
        ctx([...objects, admit({ ...traefik, podSelector: { matchLabels: { app: 'coredns' } } }, 8080)], k3s),
      ),
    ).toHaveLength(1);
    // EKS: the ALB's traffic comes from its subnets, which this check does not judge
    expect(ingressNetworkPolicyFindings(ctx(objects))).toEqual([]);
  });

  it('pdb: a percentage that keeps every pod; hpa: a Utilization target on a container with no request', () => {
    const pdb = (spec: Record<string, unknown>): KubeObject => ({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: `p${JSON.stringify(spec).length}`, namespace: 'app' },
      spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
    });
    expect(
      messages(
        disruptionBudgetFindings(
          ctx([
            deployment('web', {}),
            pdb({ minAvailable: '100%' }),
            pdb({ minAvailable: '75%' }),
            pdb({ maxUnavailable: '0%' }),
          ]),
        ),
      ),
    ).toEqual([
      'error: minAvailable 100% needs 4 of the 4 pods it covers (Deployment app/web: 4) to stay up: none may be evicted',
      'error: maxUnavailable 0%: no pod it covers may ever be evicted',
    ]);
    const hpa: KubeObject = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'app' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
          },
        ],
      },
    };
    expect(
      messages(autoscalerMetricFindings(ctx([deployment('web', {}), hpa], { profile: K3S_PROFILE }))),
    ).toEqual(['error: a cpu Utilization target, but container(s) main of Deployment web request no cpu']);
  });

  it('storage: the cluster’s default class serves a claim without one; an in-tree provisioner nothing serves', () => {
    const claim = (cls?: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `c-${cls ?? 'default'}`, namespace: 'app' },
      spec: {
        ...(cls ? { storageClassName: cls } : {}),
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
      },
    });
    const legacy: KubeObject = {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'cinder' },
      provisioner: 'kubernetes.io/cinder-legacy',
    };
    expect(messages(storageClassFindings(ctx([claim(), claim('gp2'), claim('cinder'), legacy])))).toEqual([
      'error: the claim: StorageClass "cinder" names the in-tree provisioner kubernetes.io/cinder-legacy, which no volume plugin serves any more',
    ]);
  });

  it('backups: a CloudNativePG backup that inherits an IAM role its ServiceAccount does not get', () => {
    const cluster = (template?: Record<string, unknown>): KubeObject => ({
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Cluster',
      metadata: { name: 'pg', namespace: 'app' },
      spec: {
        ...(template ? { serviceAccountTemplate: template } : {}),
        backup: {
          barmanObjectStore: { destinationPath: 's3://b/pg', s3Credentials: { inheritFromIAMRole: true } },
        },
      },
    });
    const role = {
      metadata: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/pg' } },
    };
    expect(backupCredentialFindings(ctx([cluster()])).map((f) => f.severity)).toEqual(['warning']);
    expect(backupCredentialFindings(ctx([cluster(role)]))).toEqual([]);
    expect(messages(backupCredentialFindings(ctx([cluster(role)], { profile: K3S_PROFILE })))).toEqual([
      "warning: backs up to s3://b/pg with the pods' IAM role, and a k3s cluster has no IAM roles for service accounts",
    ]);
  });
});
