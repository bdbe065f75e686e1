import { describe, expect, it } from 'vitest';
import { isTwinError } from '../../../core/errors.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { cronScheduleProblem } from '../../../kube/schema/cron-schedule.ts';
import { catalogueAddon } from '../../../system/addons/addons-file.ts';
import {
  classifyKinds,
  describeStoredOnly,
  formatProblem,
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

const namespace: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'production' } };

/** The objects as one file defines them, after the Namespace they live in. */
const at = (...objects: KubeObject[]): RenderedObject[] =>
  [namespace, ...objects].map((object) => ({ object, source: SOURCE }));

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
  const argo = [catalogueAddon('argo-rollouts', 'v1.8.3')];

  it('accepts a valid Deployment and defaults the namespace', () => {
    const d = deployment((d) => delete d.metadata.namespace);
    validateObjects(at(d));
    expect(d.metadata.namespace).toBe('default');
  });

  it('names file, object and field for a missing selector', () => {
    expect(messageOf(at(deployment((d) => delete d.spec.selector)))).toBe(
      `${SOURCE}: Deployment production/api: spec.selector: Required value`,
    );
  });

  it('rejects a selector that does not match the template labels', () => {
    expect(messageOf(at(deployment((d) => (d.spec.selector.matchLabels.app = 'web'))))).toBe(
      `${SOURCE}: Deployment production/api: spec.template.metadata.labels: Invalid value: map[string]string{"app":"api", "version":"1.0.0"}: \`selector\` does not match template \`labels\``,
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
      `${SOURCE}: Deployment production/api: spec.template.spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1`,
      `${SOURCE}: Deployment production/api: spec.template.spec.containers[0].resources.limits[memory]: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
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
    ).map((p) => `${p.field}: ${p.message}`);
    expect(problems).toEqual([
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.spec.containers[1].image: Required value',
      'spec.selector.matchLabels[version]: json: cannot unmarshal number into Go struct field LabelSelector.spec.selector.matchLabels of type string',
      'spec.template.metadata.labels[version]: json: cannot unmarshal number into Go struct field ObjectMeta.spec.template.metadata.labels of type string',
      expect.stringMatching(
        /^metadata\.name: Invalid value: "API_v1": a lowercase RFC 1123 subdomain must consist of/,
      ),
    ]);
  });

  it('checks a Job restartPolicy of OnFailure or Never and CronJob schedules; serviceName is optional', () => {
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
      `${SOURCE}: Job production/migrate: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"`,
      `${SOURCE}: CronJob production/nightly: spec.schedule: Invalid value: "61 * * * *": invalid minute field "61"`,
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
    expect(
      manifestProblems(at(...objects), { addons: argo }).map((p) => `${p.object}: ${p.field}: ${p.message}`),
    ).toEqual([
      'Service default/api: spec.ports[0].port: Required value',
      'Ingress default/api: spec.rules[0].http.paths[0].backend: Required value',
      'HorizontalPodAutoscaler default/api: spec.scaleTargetRef: Required value',
      'PodDisruptionBudget default/api: spec: Invalid value: {…}: minAvailable and maxUnavailable cannot be both set',
      'Rollout production/api: spec.strategy.canary.steps[2].setWieght: unknown field "spec.strategy.canary.steps[2].setWieght"',
      'Rollout production/api: spec.strategy.canary.steps[2]: Invalid value: {…}: Step must have one of the following set: experiment, setWeight, setCanaryScale or pause',
    ]);
  });

  it('rejects a custom resource of an add-on the system does not list, naming the add-on', () => {
    const rollout = deployment((d) => {
      d.apiVersion = 'argoproj.io/v1alpha1';
      d.kind = 'Rollout';
      d.spec.strategy = { canary: {} };
    });
    expect(
      manifestProblems(at(rollout), { addonsFile: 'infra/x/addons.yaml' }).map((p) => p.message),
    ).toEqual([
      'no matches for kind "Rollout" in version "argoproj.io/v1alpha1"; ensure CRDs are installed first: Argo Rollouts is not an add-on of this system (add it to infra/x/addons.yaml; catalogued releases: v1.8.3)',
    ]);
    expect(manifestProblems(at(rollout), { addons: argo })).toEqual([]);
  });

  it('takes an Istio VirtualService only where Istio is an add-on, with Istio’s fields', () => {
    const vs = (spec: Record<string, unknown>): KubeObject => ({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'api', namespace: 'production' },
      spec,
    });
    const seed = vs({
      hosts: ['api.example.com'],
      gateways: ['gw'],
      http: [
        {
          match: [{ uri: { prefix: '/v1/' } }],
          route: [{ destination: { host: 'api', port: { number: 8000 } } }],
          retries: { attempts: 3, perTryTimeout: '10s' },
        },
      ],
    });
    expect(manifestProblems(at(seed), { addonsFile: 'infra/x/addons.yaml' }).map((p) => p.message)).toEqual([
      'no matches for kind "VirtualService" in version "networking.istio.io/v1beta1"; ensure CRDs are installed first: Istio is not an add-on of this system (add it to infra/x/addons.yaml; catalogued releases: 1.24.3)',
    ]);
    const istio = [catalogueAddon('istio', '1.24.3')];
    expect(manifestProblems(at(seed), { addons: istio })).toEqual([]);
    const typo = vs({
      hosts: ['api'],
      http: [{ route: [{ destination: { host: 'api' } }], retry: { attempts: 3 } }],
    });
    expect(manifestProblems(at(typo), { addons: istio }).map((p) => p.message)).toEqual([
      'unknown field "spec.http[0].retry"',
    ]);
  });

  it('serves the kinds of a CRD the manifests define to the objects after it', () => {
    const crd: KubeObject = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
              },
            },
          },
        ],
      },
    };
    const widget = (spec: unknown): KubeObject => ({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'production' },
      spec,
    });
    expect(manifestProblems(at(crd, widget({ size: 3 })))).toEqual([]);
    expect(
      manifestProblems(at(crd, widget({ size: 'big', colour: 'red' }))).map(
        (p) => `${p.field}: ${p.message}`,
      ),
    ).toEqual([
      'spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"',
      'spec.colour: unknown field "spec.colour"',
    ]);
  });

  it('reports missing apiVersion/kind/name, removed API versions, unknown namespaces and duplicates', () => {
    const problems = manifestProblems([
      { source: 'a.yaml', object: { kind: 'ConfigMap', metadata: {} } as any },
      { source: 'b.yaml', object: deployment((d) => (d.apiVersion = 'extensions/v1beta1')) },
      { source: 'c.yaml', object: deployment((d) => (d.metadata.namespace = 'staging')) },
      { source: 'd.yaml', object: deployment((d) => (d.metadata.namespace = 'staging')) },
    ]).map((p) => formatProblem(p));
    expect(problems).toEqual([
      'a.yaml: ConfigMap #1: apiVersion: Required value',
      'a.yaml: ConfigMap #1: metadata.name: Required value',
      'b.yaml: Deployment production/api: apiVersion: no matches for kind "Deployment" in version "extensions/v1beta1"; use apps/v1 (removed in Kubernetes 1.16)',
      'c.yaml: Deployment staging/api: metadata.namespace: namespaces "staging" not found (no manifest creates it; add a Namespace, or use one of default, kube-system, kube-public, kube-node-lease)',
      'd.yaml: Deployment staging/api: is also defined in c.yaml',
      'd.yaml: Deployment staging/api: metadata.namespace: namespaces "staging" not found (no manifest creates it; add a Namespace, or use one of default, kube-system, kube-public, kube-node-lease)',
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
