import { describe, expect, it } from 'vitest';
import { isTwinError } from '../../../core/errors.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { cronScheduleProblem } from '../../../system/render/cron-schedule.ts';
import {
  classifyKinds,
  describeStoredOnly,
  manifestProblems,
  validateObjects,
} from '../../../system/render/manifest-validation.ts';
import type { RenderedObject } from '../../../system/render/rendered-object.ts';

const SOURCE = 'infra/ai-platform/k8s/base/api.yaml';

function deployment(patch: (d: any) => void = () => {}): KubeObject {
  const d: any = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'production' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'api' } },
      template: {
        metadata: { labels: { app: 'api', version: '1.0.0' } },
        spec: {
          containers: [
            {
              name: 'api',
              image: 'api:1.0.0',
              resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
            },
          ],
        },
      },
    },
  };
  patch(d);
  return d;
}

const at = (...objects: KubeObject[]): RenderedObject[] =>
  objects.map((object) => ({ object, source: SOURCE }));

function messageOf(objects: RenderedObject[]): string {
  try {
    validateObjects(objects);
  } catch (e) {
    expect(isTwinError(e, 'TWIN_MANIFEST_INVALID')).toBe(true);
    return (e as Error).message;
  }
  return '';
}

describe('validateObjects', () => {
  it('accepts a valid Deployment and defaults the namespace', () => {
    const d = deployment((d) => delete d.metadata.namespace);
    validateObjects(at(d));
    expect(d.metadata.namespace).toBe('default');
  });

  it('names file, object and field for a missing selector', () => {
    expect(messageOf(at(deployment((d) => delete d.spec.selector)))).toBe(
      `${SOURCE}: Deployment production/api: spec.selector is required`,
    );
  });

  it('rejects a selector that does not match the template labels', () => {
    expect(messageOf(at(deployment((d) => (d.spec.selector.matchLabels.app = 'web'))))).toBe(
      `${SOURCE}: Deployment production/api: spec.template.metadata.labels: \`selector\` does not match template \`labels\``,
    );
  });

  it('rejects a bad quantity and a request above its limit', () => {
    const message = messageOf(
      at(
        deployment((d) => {
          d.spec.template.spec.containers[0].resources.limits.memory = '1 GB';
          d.spec.template.spec.containers[0].resources.requests.cpu = '2';
        }),
      ),
    );
    expect(message.split('\n')).toEqual([
      `${SOURCE}: Deployment production/api: spec.template.spec.containers[0].resources.limits.memory: "1 GB" is not a valid quantity (e.g. "500m", "2", "512Mi", "1Gi")`,
      `${SOURCE}: Deployment production/api: spec.template.spec.containers[0].resources.requests.cpu: "2" must be less than or equal to the cpu limit of "1"`,
    ]);
  });

  it('checks names, containers, replicas and label values', () => {
    const problems = manifestProblems(
      at(
        deployment((d) => {
          d.metadata.name = 'API_v1';
          d.spec.replicas = -1;
          d.spec.template.metadata.labels.version = 1.5;
          d.spec.selector.matchLabels.version = 1.5;
          d.spec.template.spec.containers.push({ name: 'sidecar' });
        }),
      ),
    ).map((p) => p.message);
    expect(problems).toEqual([
      expect.stringMatching(/^metadata\.name: "API_v1" is not a valid DNS-1123 subdomain/),
      'spec.replicas: -1 must be an integer greater than or equal to 0',
      'spec.selector.matchLabels.version: 1.5 is a number; quote it (label values are strings)',
      'spec.template.metadata.labels.version: 1.5 is a number; quote it (label values are strings)',
      'spec.template.spec.containers[1].image is required',
    ]);
  });

  it('requires serviceName for StatefulSets and a Job restartPolicy of OnFailure or Never', () => {
    const sts = deployment((d) => {
      d.kind = 'StatefulSet';
      d.metadata.name = 'db';
    });
    const job: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', namespace: 'production' },
      spec: { template: { spec: { containers: [{ name: 'm', image: 'm:1' }] } } },
    };
    const cron: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly', namespace: 'production' },
      spec: {
        schedule: '61 * * * *',
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'n', image: 'n:1' }] } } },
        },
      },
    };
    expect(messageOf(at(sts, job, cron)).split('\n')).toEqual([
      `${SOURCE}: StatefulSet production/db: spec.serviceName is required`,
      `${SOURCE}: Job production/migrate: spec.template.spec.restartPolicy: "Always" (the default) is not allowed here; use "OnFailure" or "Never"`,
      `${SOURCE}: CronJob production/nightly: spec.schedule: "61 * * * *": invalid minute field "61"`,
    ]);
  });

  it('checks Services, Ingresses, HPAs, PDBs and Rollout steps', () => {
    const objects: KubeObject[] = [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'api' },
        spec: { ports: [{ targetPort: 8080 }] },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'api' },
        spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix' }] } }] },
      },
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'api' },
        spec: { maxReplicas: 5 },
      },
      {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'api' },
        spec: { minAvailable: 1, maxUnavailable: 1 },
      },
      deployment((d) => {
        d.apiVersion = 'argoproj.io/v1alpha1';
        d.kind = 'Rollout';
        d.spec.strategy = {
          canary: { steps: [{ setWeight: 20 }, { pause: { duration: '10m' } }, { setWieght: 50 }] },
        };
      }),
    ];
    expect(manifestProblems(at(...objects)).map((p) => `${p.object}: ${p.message}`)).toEqual([
      'Service default/api: spec.ports[0].port is required',
      'Ingress default/api: spec.rules[0].http.paths[0].backend is required (a service backend: service.name and service.port)',
      'HorizontalPodAutoscaler default/api: spec.scaleTargetRef is required',
      'PodDisruptionBudget default/api: spec: minAvailable and maxUnavailable cannot be both set',
      expect.stringMatching(
        /^Rollout production\/api: spec\.strategy\.canary\.steps\[2\]: unknown step "setWieght"/,
      ),
    ]);
  });

  it('reports missing apiVersion/kind/name, removed API versions and duplicates', () => {
    const problems = manifestProblems([
      { source: 'a.yaml', object: { kind: 'ConfigMap', metadata: {} } as any },
      { source: 'b.yaml', object: deployment((d) => (d.apiVersion = 'extensions/v1beta1')) },
      { source: 'c.yaml', object: deployment() },
      { source: 'd.yaml', object: deployment() },
    ]).map((p) => `${p.source}: ${p.object}: ${p.message}`);
    expect(problems).toEqual([
      'a.yaml: ConfigMap #1: apiVersion is required',
      'a.yaml: ConfigMap #1: metadata.name is required',
      'b.yaml: Deployment production/api: apiVersion extensions/v1beta1 is no longer served; use apps/v1 (removed in Kubernetes 1.16)',
      'd.yaml: Deployment production/api: is also defined in c.yaml',
    ]);
  });

  it('lists at most ten problems and counts the rest', () => {
    const many = Array.from({ length: 13 }, (_, i) =>
      deployment((d) => {
        d.metadata.name = `api-${i}`;
        delete d.spec.selector;
      }),
    );
    const lines = messageOf(at(...many)).split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[10]).toBe('… and 3 more problems');
  });
});

describe('cronScheduleProblem', () => {
  it.each(['*/5 * * * *', '0 2 * * 1-5', '@hourly', '0 0 1 jan,jul *', '15 3 * * sun', '@every 1h30m'])(
    'accepts %s',
    (s) => {
      expect(cronScheduleProblem(s)).toBeUndefined();
    },
  );
  it.each(['* * * *', '0 24 * * *', '@sometimes', 'TZ=UTC 0 * * * *', '*/0 * * * *'])('rejects %s', (s) => {
    expect(cronScheduleProblem(s)).toBeDefined();
  });
});

describe('classifyKinds', () => {
  it('keeps unknown kinds and reports them as stored only', () => {
    const objects: KubeObject[] = [
      deployment(),
      ...['a', 'b', 'c', 'd'].map((n) => ({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: n, namespace: 'production' },
      })),
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'production' } },
    ];
    const c = classifyKinds(objects);
    expect(c.reconciled).toEqual([{ kind: 'Deployment', type: 'apps/Deployment', count: 1 }]);
    expect(c.storedOnly.map((s) => [s.kind, s.count])).toEqual([
      ['Role', 4],
      ['Widget', 1],
    ]);
    expect(describeStoredOnly(c)).toBe(
      'stored, not reconciled: Role ×4 (production/a, production/b, production/c, …), Widget ×1 (production/w)',
    );
  });
});
