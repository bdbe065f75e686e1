import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSystem, type Finding } from '../../../system/check/index.ts';
import { clusterProfile } from '../../../system/profiles/profile-registry.ts';
import { REPO_ROOT, resolveSystem } from '../../../system/system.ts';

const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const DEFECTS = path.join(REPO_ROOT, 'test', 'fixtures', 'defects');

interface Expected {
  fixture: string;
  profile: 'eks' | 'k3s';
  /** What the finding must say, and what a cluster does (its words). */
  findings: {
    check: string;
    severity?: Finding['severity'];
    line?: number;
    message: string;
    cluster: string;
  }[];
}

/**
 * Each defect the seed systems had (issue 11), put back in a small system of its own under
 * test/fixtures/defects/<name>/ (its README says where it was and how it was fixed): twin check must
 * fail on it, naming the file and line and saying what a real cluster would do, and nothing else.
 */
const CASES: Expected[] = [
  {
    fixture: 'alb-controller-without-rbac',
    profile: 'eks',
    findings: [
      {
        check: 'addons',
        line: 14,
        message:
          'runs AWS Load Balancer Controller (public.ecr.aws/eks/aws-load-balancer-controller:v2.8.2) as ServiceAccount kube-system/aws-load-balancer-controller, which no RoleBinding or ClusterRoleBinding of the manifests binds',
        cluster:
          'every request of the controller to the API server is Forbidden (User "system:serviceaccount:kube-system:aws-load-balancer-controller" cannot list resource',
      },
    ],
  },
  {
    fixture: 'addon-controllers-without-crds',
    profile: 'eks',
    findings: [
      {
        check: 'addons',
        line: 39,
        message:
          'runs AWS Load Balancer Controller (public.ecr.aws/eks/aws-load-balancer-controller:v2.8.2), but test/fixtures/defects/addon-controllers-without-crds/addons.yaml does not install aws-load-balancer-controller on EKS: nothing creates its CustomResourceDefinitions (elbv2.k8s.aws)',
        cluster:
          'the controller\'s watches of elbv2.k8s.aws fail ("the server could not find the requested resource")',
      },
      {
        check: 'addons',
        line: 55,
        message: 'nothing creates its CustomResourceDefinitions (cert-manager.io, acme.cert-manager.io)',
        cluster: 'refused ("no matches for kind … ensure CRDs are installed first")',
      },
    ],
  },
  {
    fixture: 'cert-manager-without-rbac',
    profile: 'eks',
    findings: [
      {
        check: 'addons',
        message:
          'runs cert-manager (quay.io/jetstack/cert-manager-controller:v1.15.3) as ServiceAccount cert-manager/cert-manager',
        cluster: 'Forbidden',
      },
    ],
  },
  {
    fixture: 'placeholder-secrets',
    profile: 'eks',
    findings: [
      {
        check: 'secrets',
        line: 9,
        message: 'DB_PASSWORD holds a placeholder: "change-me-placeholder"',
        cluster: 'stores it as written',
      },
      {
        check: 'secrets',
        line: 10,
        message: 'API_TOKEN holds a placeholder: "xxxx"',
        cluster: 'stores it as written',
      },
      {
        check: 'secrets',
        line: 11,
        message: 'SIGNING_KEY holds an unfilled template: "<signing-key>"',
        cluster: 'stores it as written',
      },
      {
        check: 'secrets',
        line: 12,
        message: 'DB_USER is empty, and a pod reads it',
        cluster: 'the pod gets an empty DB_USER',
      },
      {
        check: 'secrets',
        line: 14,
        message: 'LEGACY_PASSWORD holds a placeholder: "changeme"',
        cluster: 'stores it as written',
      },
    ],
  },
  {
    fixture: 'irsa-role-not-in-terraform',
    profile: 'eks',
    findings: [
      {
        check: 'irsa',
        line: 11,
        message:
          'role "defect-prod-fluent-bit" is not created by test/fixtures/defects/irsa-role-not-in-terraform/terraform/environments/production (it creates defect-prod-aws-load-balancer-controller)',
        cluster:
          'every AWS call fails with AccessDenied (not authorized to perform sts:AssumeRoleWithWebIdentity)',
      },
    ],
  },
  {
    fixture: 'hpa-without-metrics-server',
    profile: 'eks',
    findings: [
      {
        check: 'hpa',
        message:
          'a Resource metric needs the resource metrics API (metrics.k8s.io), which metrics-server serves',
        cluster:
          'ScalingActive False (FailedGetResourceMetric: unable to get metrics … the server could not find the requested resource (get pods.metrics.k8s.io))',
      },
    ],
  },
  {
    fixture: 'gp3-claims-on-k3s',
    profile: 'k3s',
    findings: [
      {
        check: 'storage',
        line: 30,
        message:
          'StorageClass "gp3" is provisioned by ebs.csi.aws.com, which the k3s cluster does not run (its provisioners: rancher.io/local-path)',
        cluster:
          "ExternalProvisioning: \"Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator",
      },
    ],
  },
  {
    fixture: 'alb-controller-on-k3s',
    profile: 'k3s',
    findings: [
      {
        check: 'addons',
        message: 'which needs the AWS APIs and IAM roles for service accounts; a k3s cluster has neither',
        cluster: 'it crash-loops (CrashLoopBackOff)',
      },
    ],
  },
  {
    fixture: 'default-deny-drops-traefik',
    profile: 'k3s',
    findings: [
      {
        check: 'network-policy',
        message:
          "the Ingress controller's pods (kube-system, app.kubernetes.io/name=traefik,app.kubernetes.io/instance=traefik-kube-system) cannot reach Deployment app/web on port http: NetworkPolicies allow-from-alb, default-deny-ingress isolate its pods and none admits them",
        cluster: 'drops the connections: requests through the Ingress to web time out',
      },
    ],
  },
  {
    fixture: 'redis-operator-missing',
    profile: 'eks',
    findings: [
      {
        check: 'schema',
        line: 6,
        message:
          'no matches for kind "RedisCluster" in version "redis.redis.opstreelabs.in/v1beta2"; ensure CRDs are installed first: OT redis-operator is not an add-on of this system',
        cluster: 'kubectl apply fails with "resource mapping not found … ensure CRDs are installed first"',
      },
    ],
  },
  {
    fixture: 'storage-class-undefined',
    profile: 'eks',
    findings: [
      {
        check: 'storage',
        line: 24,
        message: 'StorageClass "fast-ssd" is defined nowhere',
        cluster: 'ProvisioningFailed: storageclass.storage.k8s.io "fast-ssd" not found',
      },
    ],
  },
  {
    fixture: 'no-default-storage-class',
    profile: 'eks',
    findings: [
      {
        check: 'storage',
        message: 'volumeClaimTemplate data names no StorageClass, and the EKS cluster has no default class',
        cluster:
          'FailedBinding: "no persistent volumes available for this claim and no storage class is set"',
      },
    ],
  },
  {
    fixture: 'alb-ingress-on-k3s',
    profile: 'k3s',
    findings: [
      {
        check: 'ingress',
        message: 'IngressClass "alb" does not exist on the k3s cluster (its classes: traefik',
        cluster: 'no controller picks it up: it never gets an address',
      },
    ],
  },
  {
    fixture: 'probe-on-undeclared-port',
    profile: 'eks',
    findings: [
      {
        check: 'probes',
        message:
          'the readinessProbe of container main names port "http", which the container does not declare (its ports: web)',
        cluster: 'the pod never becomes Ready',
      },
    ],
  },
  {
    fixture: 'pdb-blocks-evictions',
    profile: 'eks',
    findings: [
      {
        check: 'pdb',
        message:
          'minAvailable 2 needs 2 of the 2 pods it covers (Deployment app/web: 2) to stay up: none may be evicted',
        cluster: '429: "Cannot evict pod as it would violate the pod\'s disruption budget"',
      },
      {
        check: 'pdb',
        message: 'maxUnavailable 0: no pod it covers may ever be evicted',
        cluster: 'kubectl drain never finishes',
      },
    ],
  },
  {
    fixture: 'service-selects-no-pod',
    profile: 'eks',
    findings: [
      {
        check: 'services',
        severity: 'warning',
        message:
          'selects no pod: no workload, pod or operator of the manifests makes pods in app labelled app=api',
        cluster: 'creates the Service with no endpoints',
      },
    ],
  },
  {
    fixture: 'missing-secret',
    profile: 'eks',
    findings: [
      {
        check: 'references',
        message: 'container main: env DB_PASSWORD: Secret app/api-db is not defined',
        cluster: 'CreateContainerConfigError (secret "api-db" not found)',
      },
    ],
  },
  {
    fixture: 'overlay-file-outside',
    profile: 'k3s',
    findings: [
      {
        check: 'kustomize',
        line: 6,
        message: 'takes the file "../local/patch.yaml" from outside its directory',
        cluster: 'kubectl apply -k (and kustomize build) refuse it',
      },
    ],
  },
];

describe.skipIf(!hasKustomize)(
  'twin check fails on each defect of the seed systems (needs kubectl or kustomize)',
  () => {
    it.each(CASES)('$fixture ($profile)', async ({ fixture, profile, findings }) => {
      const report = await checkSystem(await resolveSystem(path.join(DEFECTS, fixture)), {
        profile: clusterProfile(profile),
      });
      const problems = report.findings.filter((f) => f.severity !== 'note');
      // exactly the defect: nothing else of the fixture is wrong
      expect(problems.map((f) => `${f.check}: ${f.message}`)).toHaveLength(findings.length);
      for (const want of findings) {
        const got = problems.find((f) => f.check === want.check && f.message.includes(want.message));
        expect(
          got,
          `${want.check}: ${want.message}\nfound: ${problems.map((f) => f.message).join('\n')}`,
        ).toBeDefined();
        expect(got!.severity).toBe(want.severity ?? 'error');
        expect(got!.cluster).toContain(want.cluster);
        expect(got!.source).toMatch(new RegExp(`^test/fixtures/defects/${fixture}/`));
        if (want.line !== undefined) expect(got!.line).toBe(want.line);
      }
      expect(report.counts.error > 0).toBe(findings.some((f) => (f.severity ?? 'error') === 'error'));
    });

    it("ToneBridge's CNPG Cluster as the seed wrote it (test/fixtures/systems/cnpg-seed-fields): fields CloudNativePG does not define, and fast-ssd", async () => {
      const report = await checkSystem(
        await resolveSystem(path.join(REPO_ROOT, 'test/fixtures/systems/cnpg-seed-fields')),
      );
      expect(report.findings.map((f) => [f.check, f.line, f.field, f.message])).toEqual([
        ['schema', 16, 'spec.postgresql.version', 'unknown field "spec.postgresql.version"'],
        [
          'storage',
          25,
          'spec.storage.storageClass',
          expect.stringContaining('StorageClass "fast-ssd" is defined nowhere'),
        ],
        ['schema', 27, 'spec.monitoring.enabled', 'unknown field "spec.monitoring.enabled"'],
        ['schema', 29, 'spec.backup.enabled', 'unknown field "spec.backup.enabled"'],
        ['schema', 31, 'spec.backup.s3', 'unknown field "spec.backup.s3"'],
      ]);
    });

    it('the k3s-only defects are not defects on EKS, and the other way round', async () => {
      // gp3 has its provisioner on EKS; on k3s, metrics-server is packaged
      for (const [fixture, profile] of [
        ['gp3-claims-on-k3s', 'eks'],
        ['hpa-without-metrics-server', 'k3s'],
      ] as const) {
        const report = await checkSystem(await resolveSystem(path.join(DEFECTS, fixture)), {
          overlay: fixture === 'gp3-claims-on-k3s' ? 'k3d' : 'local',
          profile: clusterProfile(profile),
        });
        expect(report.counts.error, fixture).toBe(0);
      }
    });
  },
);
