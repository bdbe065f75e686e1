import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/object.ts';
import { find, hasKubectl, parseObjects, podTemplateOf, readBase, renderOverlay } from './manifests.ts';

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job', 'Rollout']);
const OUR_IMAGES = /(ghcr\.io|dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com)\/ai-platform\//;
const GOLDEN = fileURLToPath(new URL('./__golden__/ai-platform-local.yaml', import.meta.url));

/** JSON with sorted keys: kustomize reorders fields, and only content matters. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function container(o: KubeObject) {
  return podTemplateOf(o)!.spec.containers[0];
}

describe('ai-platform base (read from its files)', () => {
  const objects = readBase();

  it('has the namespaces of the seed', () => {
    const names = objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    expect(names.sort()).toEqual([
      'ai-inference',
      'data-pipeline',
      'development',
      'production',
      'staging',
      'system',
    ]);
  });

  it('gives every pod the labels, the downward-API env and, for our services, port and probes', () => {
    const workloads = objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
    expect(workloads.length).toBeGreaterThanOrEqual(13);
    for (const w of workloads) {
      const template = podTemplateOf(w)!;
      const where = `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`;
      const labels = template.metadata.labels;
      expect(labels['app.kubernetes.io/part-of'], where).toBe('ai-platform');
      expect(labels['app.kubernetes.io/name'], where).toBeTruthy();
      for (const c of template.spec.containers) {
        expect(labels['app.kubernetes.io/version'], where).toBe(c.image.split(':').at(-1));
        const fields = Object.fromEntries(
          (c.env ?? [])
            .filter((e: any) => e.valueFrom?.fieldRef)
            .map((e: any) => [e.name, e.valueFrom.fieldRef.fieldPath]),
        );
        expect(fields, where).toMatchObject({
          POD_IP: 'status.podIP',
          POD_NAME: 'metadata.name',
          POD_NAMESPACE: 'metadata.namespace',
        });
        expect(c.resources?.requests?.cpu, where).toBeTruthy();
        expect(c.resources?.requests?.memory, where).toBeTruthy();
        if (OUR_IMAGES.test(c.image) && w.kind !== 'CronJob') {
          expect(c.ports, where).toContainEqual({ name: 'http', containerPort: 8080, protocol: 'TCP' });
          expect(c.readinessProbe.httpGet, where).toEqual({ path: '/readyz', port: 'http' });
          expect(c.livenessProbe.httpGet, where).toEqual({ path: '/healthz', port: 'http' });
        }
      }
    }
  });

  it('sizes the workloads as the seed does', () => {
    const web = find(objects, 'Deployment', 'production', 'web');
    expect(web.spec.replicas).toBe(3);
    expect(container(web).resources.requests).toEqual({ cpu: '500m', memory: '1Gi' });
    expect(container(web).image).toBe('ghcr.io/ai-platform/web:1.0.0');

    const api = find(objects, 'Rollout', 'production', 'api');
    expect(api.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(api.spec.replicas).toBe(3);
    expect(container(api).resources.requests).toEqual({ cpu: '1', memory: '2Gi' });
    expect(container(api).envFrom).toEqual([
      { configMapRef: { name: 'api-config' } },
      { secretRef: { name: 'api-db' } },
    ]);

    const inference = find(objects, 'Deployment', 'ai-inference', 'ml-inference');
    expect(inference.spec.replicas).toBe(2);
    expect(container(inference).resources.requests).toEqual({ cpu: '2', memory: '4Gi' });
    expect(inference.spec.template.spec.nodeSelector).toEqual({ 'eks.amazonaws.com/nodegroup': 'compute' });

    const airflow = find(objects, 'StatefulSet', 'data-pipeline', 'airflow');
    expect(airflow.spec.replicas).toBe(1);
    expect(container(airflow).resources.requests).toEqual({ cpu: '1', memory: '2Gi' });
    expect(container(airflow).image).toMatch(/^apache\/airflow:\d+\.\d+\.\d+$/);
    expect(airflow.spec.volumeClaimTemplates).toHaveLength(1);
    expect(find(objects, 'Service', 'data-pipeline', 'airflow').spec.clusterIP).toBe('None');

    expect(find(objects, 'CronJob', 'data-pipeline', 'etl').spec.schedule).toBe('0 * * * *');
    const training = find(objects, 'CronJob', 'data-pipeline', 'model-training');
    const trainingPod = podTemplateOf(training)!.spec;
    expect(trainingPod.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    expect(trainingPod.tolerations).toContainEqual({
      key: 'nvidia.com/gpu',
      operator: 'Exists',
      effect: 'NoSchedule',
    });

    expect(find(objects, 'DaemonSet', 'system', 'fluent-bit').spec.template.spec.tolerations).toEqual([
      { operator: 'Exists' },
    ]);
    for (const name of [
      'aws-load-balancer-controller',
      'cert-manager',
      'cert-manager-webhook',
      'cert-manager-cainjector',
      'grafana',
    ]) {
      expect(find(objects, 'Deployment', 'system', name)).toBeTruthy();
    }
    expect(find(objects, 'StatefulSet', 'system', 'prometheus')).toBeTruthy();
  });

  it('spreads web and api across zones without blocking scheduling', () => {
    for (const w of [
      find(objects, 'Deployment', 'production', 'web'),
      find(objects, 'Rollout', 'production', 'api'),
    ]) {
      expect(w.spec.template.spec.topologySpreadConstraints).toEqual([
        expect.objectContaining({
          maxSkew: 1,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'ScheduleAnyway',
        }),
      ]);
    }
  });

  it('releases the api by the canary of seed 001', () => {
    const canary = find(objects, 'Rollout', 'production', 'api').spec.strategy.canary;
    expect(canary.canaryService).toBe('api-canary');
    expect(canary.stableService).toBe('api-stable');
    expect(canary.trafficRouting).toEqual({
      alb: { ingress: 'ai-platform', servicePort: 80, rootService: 'api' },
    });
    expect(canary.steps).toEqual([
      { setWeight: 10 },
      {
        analysis: {
          templates: [{ templateName: 'api-canary-health' }],
          args: [
            { name: 'canary-service', value: 'api-canary' },
            { name: 'namespace', value: 'production' },
          ],
        },
      },
      { setWeight: 50 },
      { pause: { duration: '5m' } },
      { setWeight: 100 },
    ]);
    for (const name of ['api', 'api-stable', 'api-canary'])
      expect(find(objects, 'Service', 'production', name)).toBeTruthy();

    const template = find(objects, 'AnalysisTemplate', 'production', 'api-canary-health');
    const metrics = template.spec.metrics.map((m: any) => ({
      name: m.name,
      interval: m.interval,
      count: m.count,
      successCondition: m.successCondition,
      failureLimit: m.failureLimit,
      address: m.provider.prometheus.address,
    }));
    const address = 'http://prometheus.system.svc.cluster.local:9090';
    expect(metrics).toEqual([
      {
        name: 'error-rate',
        interval: '1m',
        count: 10,
        successCondition: 'result[0] < 0.05',
        failureLimit: 1,
        address,
      },
      {
        name: 'latency-p95',
        interval: '1m',
        count: 10,
        successCondition: 'result[0] < 0.5',
        failureLimit: 2,
        address,
      },
    ]);
  });

  it('lets Prometheus scrape the services the analysis and dashboards read', () => {
    for (const [ns, name] of [
      ['production', 'api-stable'],
      ['production', 'api-canary'],
      ['production', 'web'],
      ['ai-inference', 'ml-inference'],
    ] as const) {
      expect(find(objects, 'Service', ns, name).metadata.annotations, `${ns}/${name}`).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '8080',
      });
    }
    expect(find(objects, 'Service', 'production', 'api').metadata.annotations).toBeUndefined();
    const etl = podTemplateOf(find(objects, 'CronJob', 'data-pipeline', 'etl'))!;
    expect(etl.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9102',
    });
    expect(etl.spec.containers[0].ports).toEqual([{ name: 'metrics', containerPort: 9102, protocol: 'TCP' }]);
    const config = (find(objects, 'ConfigMap', 'system', 'prometheus-config') as any).data['prometheus.yml'];
    expect(config).toContain('job_name: kubernetes-service-endpoints');
    expect(config).toContain('target_label: service');
  });

  it('routes the ALB Ingress to web and, through the Rollout action, to api', () => {
    const ingress = find(objects, 'Ingress', 'production', 'ai-platform');
    expect(ingress.spec.ingressClassName).toBe('alb');
    const annotations = ingress.metadata.annotations ?? {};
    expect(annotations).toMatchObject({
      'alb.ingress.kubernetes.io/scheme': 'internet-facing',
      'alb.ingress.kubernetes.io/target-type': 'ip',
      'alb.ingress.kubernetes.io/healthcheck-path': '/readyz',
    });
    expect(annotations['alb.ingress.kubernetes.io/listen-ports']).toContain('"HTTPS": 443');
    expect(annotations['alb.ingress.kubernetes.io/certificate-arn']).toMatch(/^arn:aws:acm:/);
    const paths = ingress.spec.rules[0].http.paths.map((p: any) => [
      p.path,
      p.backend.service.name,
      p.backend.service.port,
    ]);
    expect(paths).toEqual([
      ['/api', 'api', { name: 'use-annotation' }],
      ['/', 'web', { number: 80 }],
    ]);
  });

  it('scales, protects and isolates as the seed says', () => {
    const hpa = (ns: string, name: string) => {
      const s = find(objects, 'HorizontalPodAutoscaler', ns, name).spec;
      return [
        s.scaleTargetRef.kind,
        s.minReplicas,
        s.maxReplicas,
        s.metrics[0].resource.target.averageUtilization,
      ];
    };
    expect(hpa('production', 'web')).toEqual(['Deployment', 3, 10, 70]);
    expect(hpa('production', 'api')).toEqual(['Rollout', 3, 10, 70]);
    expect(hpa('ai-inference', 'ml-inference')).toEqual(['Deployment', 2, 6, 70]);

    expect(find(objects, 'PodDisruptionBudget', 'production', 'web').spec.minAvailable).toBe(2);
    expect(find(objects, 'PodDisruptionBudget', 'production', 'api').spec.minAvailable).toBe(2);
    expect(find(objects, 'PodDisruptionBudget', 'ai-inference', 'ml-inference').spec.maxUnavailable).toBe(1);

    const deny = find(objects, 'NetworkPolicy', 'production', 'default-deny-ingress').spec;
    expect(deny).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    const alb = find(objects, 'NetworkPolicy', 'production', 'allow-from-alb').spec.ingress[0];
    expect(alb.from).toEqual([
      { ipBlock: { cidr: '10.0.1.0/24' } },
      { ipBlock: { cidr: '10.0.2.0/24' } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'system' } } },
    ]);
    expect(alb.ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
    const db = find(objects, 'NetworkPolicy', 'production', 'allow-db-egress').spec;
    expect(db.podSelector).toEqual({ matchLabels: { tier: 'app' } });
    expect(db.egress).toEqual([
      { to: [{ ipBlock: { cidr: '10.0.20.0/23' } }], ports: [{ protocol: 'TCP', port: 5432 }] },
    ]);
    expect(find(objects, 'Rollout', 'production', 'api').spec.template.metadata.labels.tier).toBe('app');
    const toInference = find(objects, 'NetworkPolicy', 'ai-inference', 'allow-api-to-inference').spec
      .ingress[0];
    expect(toInference.from[0].podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'api' } });

    const config = find(objects, 'ConfigMap', 'production', 'api-config')['data'] as Record<string, string>;
    expect(config.INFERENCE_URL).toBe('http://ml-inference.ai-inference.svc.cluster.local');
    expect(config.DB_HOST).toMatch(/\.ap-northeast-1\.rds\.amazonaws\.com$/);
  });
});

describe.skipIf(!hasKubectl())(
  'ai-platform overlays rendered by kubectl kustomize (needs kubectl on PATH)',
  () => {
    it('production only re-points our images to ECR', () => {
      const base = readBase();
      const { objects } = renderOverlay('production');
      expect(objects).toHaveLength(base.length);
      const images = objects
        .filter((o) => podTemplateOf(o))
        .flatMap((o) => podTemplateOf(o)!.spec.containers.map((c: any) => c.image as string));
      const ours = images.filter((i) => i.includes('/ai-platform/'));
      expect(ours.sort()).toEqual(
        ['api', 'etl', 'inference', 'web'].map(
          (n) => `123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/ai-platform/${n}:1.0.0`,
        ),
      );
      const strip = (list: KubeObject[]) =>
        JSON.stringify(list.map((o) => canonical(o).replace(/"image":"[^"]*"/g, '')).sort());
      expect(strip(objects)).toBe(strip(base));
    });

    it('local re-points the canary analysis at the twin metrics API and the warehouse at the RDS stand-in, and changes nothing else', () => {
      const { text, objects } = renderOverlay('local');
      const template = find(objects, 'AnalysisTemplate', 'production', 'api-canary-health');
      const url =
        'http://twin-metrics.twin-system.svc.cluster.local/api/v1/traffic?service={{args.namespace}}/{{args.canary-service}}&window=1m';
      expect(template.spec.metrics).toEqual([
        expect.objectContaining({
          name: 'error-rate',
          interval: '1m',
          count: 10,
          failureLimit: 1,
          successCondition: 'result < 0.05',
          provider: { web: expect.objectContaining({ url, jsonPath: '{$.errorRate}' }) },
        }),
        expect.objectContaining({
          name: 'latency-p95',
          interval: '1m',
          count: 10,
          failureLimit: 2,
          successCondition: 'result < 500',
          provider: { web: expect.objectContaining({ url, jsonPath: '{$.latency.p95}' }) },
        }),
      ]);
      // RDS is represented by one live PostgreSQL (dwh-postgres.yaml), and only DWH_HOST points at it.
      const config = find(objects, 'ConfigMap', 'data-pipeline', 'pipeline-config');
      expect((config.data as Record<string, string>)['DWH_HOST']).toBe('dwh.data-pipeline.svc.cluster.local');
      const standIn = (o: KubeObject) =>
        o.metadata.name === 'dwh' && o.metadata.namespace === 'data-pipeline';
      expect(
        objects
          .filter(standIn)
          .map((o) => o.kind)
          .sort(),
      ).toEqual(['Service', 'StatefulSet']);
      const withoutDwhHost = (o: KubeObject) =>
        o.kind === 'ConfigMap' && o.metadata.name === 'pipeline-config'
          ? { ...o, data: { ...(o.data as Record<string, string>), DWH_HOST: undefined } }
          : o;
      const others = (list: KubeObject[]) =>
        JSON.stringify(
          list
            .filter((o) => o.kind !== 'AnalysisTemplate' && !standIn(o))
            .map(withoutDwhHost)
            .map(canonical)
            .sort(),
        );
      expect(others(objects)).toBe(others(readBase()));

      if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(GOLDEN)) {
        mkdirSync(fileURLToPath(new URL('./__golden__/', import.meta.url)), { recursive: true });
        writeFileSync(GOLDEN, text);
      }
      // Compared as data, in order: the formatter may re-indent the golden file without changing it.
      const golden = parseObjects(readFileSync(GOLDEN, 'utf8'), GOLDEN);
      expect(
        objects.map(canonical),
        'rendered local overlay differs from the golden file; rerun with UPDATE_GOLDEN=1 if intended',
      ).toEqual(golden.map(canonical));
    });
  },
);
