import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KubeObject } from '../../kube/object.ts';
import { find, hasKubectl, parseObjects } from './manifests.ts';

const SYSTEM = fileURLToPath(new URL('../../infra/lambda-microservice/', import.meta.url));
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const RUNTIMES = ['nodejs-runtime', 'python-runtime', 'rust-runtime'];

function render(overlay: string): KubeObject[] {
  const dir = `${SYSTEM}k8s/overlays/${overlay}`;
  return parseObjects(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' }), dir);
}

/** The zone affinity (6.1) and zone spread (6.2) of the seed, on a workload's pod template. */
function expectZoneSpread(w: KubeObject, labels: Record<string, string>): void {
  const spec = w.spec.template.spec;
  const where = `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`;
  expect(
    spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]
      .matchExpressions,
    where,
  ).toEqual([{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ZONES }]);
  expect(spec.topologySpreadConstraints, where).toEqual([
    {
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'DoNotSchedule',
      labelSelector: { matchLabels: labels },
    },
  ]);
}

describe.skipIf(!hasKubectl())('lambda-microservice request path (seed 004 §3.3-3.5, §5, §6)', () => {
  const objects = render('production');

  it('runs the OpenFaaS gateway ×3 behind Service gateway:8080 and queue workers ×2 on NATS', () => {
    const gateway = find(objects, 'Deployment', 'openfaas', 'gateway');
    expect(gateway.spec.replicas).toBe(3);
    expect(find(objects, 'Service', 'openfaas', 'gateway').spec.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' },
    ]);
    const env = Object.fromEntries(
      gateway.spec.template.spec.containers[0].env
        .filter((e: { value?: string }) => e.value !== undefined)
        .map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      upstream_timeout: '30s',
      faas_nats_address: 'nats.openfaas.svc.cluster.local',
    });
    expect(find(objects, 'Deployment', 'openfaas', 'queue-worker').spec.replicas).toBe(2);
    expect(find(objects, 'Deployment', 'openfaas', 'nats').spec.replicas).toBe(1);
    expect(
      find(objects, 'Service', 'openfaas', 'nats').spec.ports.map((p: { port: number }) => p.port),
    ).toEqual([4222, 8222]);
    expectZoneSpread(gateway, { app: 'gateway' });
    expectZoneSpread(find(objects, 'Deployment', 'openfaas', 'queue-worker'), { app: 'queue-worker' });
    expect(find(objects, 'PodDisruptionBudget', 'openfaas', 'gateway').spec.minAvailable).toBe(2);
  });

  it('deploys each runtime as faas-netes deploys a function: 256 MB, 30 s, HPA 2-20 on 70 % CPU', () => {
    for (const name of RUNTIMES) {
      const d = find(objects, 'Deployment', 'openfaas-fn', name);
      const c = d.spec.template.spec.containers[0];
      expect(d.spec.template.metadata.labels.faas_function, name).toBe(name);
      expect(c.resources.limits, name).toEqual({ cpu: '1', memory: '256Mi' });
      expect(c.env, name).toContainEqual({ name: 'exec_timeout', value: '30s' });
      expect(c.readinessProbe.httpGet, name).toEqual({ path: '/_/health', port: 'http' });
      expect(find(objects, 'Service', 'openfaas-fn', name).spec.ports[0].port, name).toBe(8080);
      expectZoneSpread(d, { faas_function: name });
      const hpa = find(objects, 'HorizontalPodAutoscaler', 'openfaas-fn', `${name}-hpa`);
      expect([hpa.spec.minReplicas, hpa.spec.maxReplicas], name).toEqual([2, 20]);
      expect(hpa.spec.metrics, name).toEqual([
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ]);
      expect(hpa.spec.behavior, name).toEqual({
        scaleDown: { stabilizationWindowSeconds: 300 },
        scaleUp: { stabilizationWindowSeconds: 60 },
      });
    }
  });

  it('runs the controller ×3 (8080 API, 9090 metrics) with HPA 3-10 on 70 % CPU and 80 % memory', () => {
    const d = find(objects, 'Deployment', 'controller', 'rust-controller');
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.containers[0].resources.limits).toEqual({ cpu: '2', memory: '4Gi' });
    expect(
      find(objects, 'Service', 'controller', 'rust-controller').spec.ports.map((p: any) => p.port),
    ).toEqual([8080, 9090]);
    expectZoneSpread(d, { app: 'rust-controller' });
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'controller', 'rust-controller-hpa');
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 10]);
    expect(hpa.spec.metrics.map((m: any) => [m.resource.name, m.resource.target.averageUtilization])).toEqual(
      [
        ['cpu', 70],
        ['memory', 80],
      ],
    );
    expect(find(objects, 'PodDisruptionBudget', 'controller', 'rust-controller').spec.minAvailable).toBe(2);
  });
});

describe.skipIf(!hasKubectl())('lambda-microservice twin bindings', () => {
  const bindings = parse(readFileSync(`${SYSTEM}twin-bindings.yaml`, 'utf8')) as {
    images: Array<{ image: string; entry?: string; dockerfile?: string; env?: Record<string, string> }>;
  };

  it('runs every image of the request path live, from files that exist', () => {
    const images = render('production')
      .flatMap((o) => o.spec?.template?.spec?.containers ?? [])
      .map((c: { image: string }) => c.image.replace(/:[^/:]+$/, ''));
    const bound = new Map(bindings.images.map((b) => [b.image, b]));
    for (const repo of new Set(images)) {
      const b = bound.get(repo);
      expect(b, `${repo} has a binding`).toBeDefined();
      const file = b!.entry ?? b!.dockerfile!;
      expect(existsSync(join(SYSTEM, '../..', file)), file).toBe(true);
    }
    // The function images' fprocess names the handler the watchdog forks.
    for (const name of ['nodejs-runtime', 'python-runtime']) {
      const fprocess = bound.get(`ghcr.io/lambda-microservice/${name}`)!.env!['fprocess']!;
      expect(existsSync(join(SYSTEM, '../..', fprocess.split(' ')[1]!)), fprocess).toBe(true);
    }
  });
});
