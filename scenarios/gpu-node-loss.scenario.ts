import { expect, it } from 'vitest';
import type { Environment, KubeObject } from '../env/environment.ts';
import { SteadyTraffic, scenario } from '../harness/index.ts';
import { API, WEB } from './support/ai-platform.ts';
import {
  condition,
  isReady,
  nodesByName,
  pct,
  pendingWithReason,
  podsOf,
  pollUntil,
  sleep,
  transitionTime,
} from './support/cluster-state.ts';

const NS = 'ai-inference';
const GPU_INFERENCE = { 'app.kubernetes.io/name': 'ml-inference-gpu' };
const GRACE = 50;
const MONITOR_PERIOD = 5;
const TOLERATION = 300;
/** Control-plane seconds of slack for event-loop lag: at ×100 a 100 ms stall is 10 s. */
const JITTER = 15;

/**
 * The inference service's GPU variant runs one replica per GPU node (g4dn.xlarge: one T4 each). A
 * GPU node and an application node of the same zone are lost: the CPU pods are rescheduled after the
 * toleration, while the evicted GPU replica stays Pending ("Insufficient nvidia.com/gpu") because the
 * only other GPU is taken, until the GPU node returns.
 */
scenario(
  'gpu-node-loss',
  {
    system: 'ai-platform',
    faults: ['stopNode', 'startNode'],
    timeline: {
      services: [{ namespace: NS, name: 'ml-inference-gpu' }],
      workloads: [{ namespace: NS, name: 'ml-inference-gpu', selector: GPU_INFERENCE }],
    },
  },
  (s) => {
    let traffic: SteadyTraffic;
    let gpuNode = '';
    let appNode = '';

    it('runs the GPU inference variant, one replica per GPU node, serving steady traffic', async () => {
      const env = s.env;
      await s.step('deploy ml-inference-gpu (2 replicas × 1 nvidia.com/gpu)', async () => {
        await env.kube.apply(gpuInference());
        await pollUntil(
          async () =>
            (await podsOf(env, NS, GPU_INFERENCE)).filter(isReady).length === 2 ? true : undefined,
          { timeoutMs: 30_000, what: 'both GPU inference replicas to be Ready' },
        );
      });
      const nodes = await nodesByName(env);
      const placed = (await podsOf(env, NS, GPU_INFERENCE)).map((p) => p.spec.nodeName as string);
      s.measure(
        'GPU replicas on GPU nodes',
        placed.filter((n) => nodes.get(n)?.metadata.labels?.['nvidia.com/gpu.present'] === 'true').length,
        'pods',
        { equals: 2 },
      );
      s.measure('distinct GPU nodes used', new Set(placed).size, 'nodes', { equals: 2 });
      gpuNode = [...placed].sort()[0]!;
      const zone = nodes.get(gpuNode)!.metadata.labels!['topology.kubernetes.io/zone'];
      const appPods = [...(await podsOf(env, 'production', WEB)), ...(await podsOf(env, 'production', API))];
      appNode =
        appPods
          .map((p) => p.spec?.nodeName as string)
          .filter((n) => nodes.get(n)?.metadata.labels?.['topology.kubernetes.io/zone'] === zone)
          .sort()[0] ?? '';
      expect(appNode, `an application node in ${zone}`).not.toBe('');
      const url = await env.net.serviceUrl({ namespace: NS, name: 'ml-inference-gpu' });
      traffic = s.traffic({ url, paths: ['/v1/model'], rate: 60 });
      const before = traffic.snapshot();
      await s.step('steady state: 1 s of traffic to the GPU inference service', () => sleep(1000));
      const w = SteadyTraffic.between(before, traffic.snapshot());
      s.measure('steady-state error rate (GPU inference)', pct(w.errors, w.requests), '%', { below: 1 });
    });

    it('loses a GPU node and an app node: CPU pods rescheduled, the GPU replica Pending for lack of a GPU', async () => {
      const env = s.env;
      const before = traffic.snapshot();
      const t0 = env.clock.now();
      await s.step(`power off ${gpuNode} and ${appNode}`, async () => {
        await env.faults.stopNode(gpuNode);
        await env.faults.stopNode(appNode);
      });
      const detectedAt = await s.step(`wait for ${gpuNode} to be NotReady`, () =>
        pollUntil(
          async () => {
            const n = await env.kube.get({ kind: 'Node', name: gpuNode });
            return condition(n, 'Ready')?.status === 'Unknown' ? transitionTime(n, 'Ready') : undefined;
          },
          { timeoutMs: env.clock.toReal(120_000) + 15_000, what: `${gpuNode} to become NotReady` },
        ),
      );
      s.measure('time to detect (control-plane)', (detectedAt - t0) / 1000, 's', {
        atMost: GRACE + MONITOR_PERIOD + JITTER,
      });
      const pending = await s.step(
        'wait for the evicted GPU replica to be Pending with the scheduler reason',
        () =>
          pollUntil(
            async () => {
              const p = await pendingWithReason(env, NS, GPU_INFERENCE);
              const gone = (await podsOf(env, NS, GPU_INFERENCE)).every((x) => x.spec?.nodeName !== gpuNode);
              return gone && p.length === 1 && p[0]!.reason === 'Unschedulable' ? p : undefined;
            },
            {
              timeoutMs: env.clock.toReal(900_000) + 30_000,
              what: 'the GPU replica to be evicted and Pending',
            },
          ),
      );
      s.measure(
        'time until the GPU replica was evicted (control-plane)',
        (env.clock.now() - t0) / 1000,
        's',
        {
          atLeast: TOLERATION,
        },
      );
      s.measure('GPU inference replicas Pending', pending.length, 'pods', { equals: 1 });
      s.note(`GPU inference Pending until GPU capacity returns: ${pending[0]!.name}: ${pending[0]!.message}`);
      expect(pending[0]!.message).toContain('Insufficient nvidia.com/gpu');
      const cpuBack = await s.step(`wait for the CPU pods of ${appNode} to be Ready elsewhere`, () =>
        pollUntil(
          async () => {
            const pods = [
              ...(await podsOf(env, 'production', WEB)),
              ...(await podsOf(env, 'production', API)),
            ];
            return pods.length >= 6 &&
              pods.every((p) => p.spec?.nodeName && p.spec.nodeName !== appNode && isReady(p))
              ? pods
              : undefined;
          },
          { timeoutMs: env.clock.toReal(600_000) + 30_000, what: `the pods of ${appNode} to be rescheduled` },
        ),
      );
      s.measure('CPU (api, web) pods Ready after the loss', cpuBack.filter(isReady).length, 'pods', {
        equals: 6,
      });
      const w = SteadyTraffic.between(before, traffic.snapshot());
      s.measure('GPU inference requests failed during the loss', w.errors, 'requests');
      s.measure('GPU inference error rate during the loss', pct(w.errors, w.requests), '%', { below: 25 });
      const settled = traffic.snapshot();
      await sleep(1000);
      const tail = SteadyTraffic.between(settled, traffic.snapshot());
      s.measure('GPU inference error rate on the remaining replica', pct(tail.errors, tail.requests), '%', {
        below: 5,
      });
    });

    it('GPU capacity returns: the Pending replica is scheduled onto the restarted GPU node', async () => {
      const env = s.env;
      const t1 = env.clock.now();
      await s.step(`power ${gpuNode} and ${appNode} on again`, async () => {
        await env.faults.startNode(gpuNode);
        await env.faults.startNode(appNode);
      });
      const back = await s.step('wait for both GPU replicas to be Ready', () =>
        pollUntil(
          async () => {
            const pods = await podsOf(env, NS, GPU_INFERENCE);
            return pods.length === 2 && pods.every(isReady) ? pods : undefined;
          },
          { timeoutMs: env.clock.toReal(120_000) + 15_000, what: 'the GPU replica to run again' },
        ),
      );
      s.measure(
        'time from GPU node restart to the replica Ready (control-plane)',
        (env.clock.now() - t1) / 1000,
        's',
        {
          atMost: MONITOR_PERIOD + JITTER + 90,
          description:
            'the unreachable taint lifted at the next monitor tick, then scheduled; the live server starts in real time (0.3 s ≈ 30 s at ×100)',
        },
      );
      expect(back.map((p) => p.spec.nodeName)).toContain(gpuNode);
      await env.kube.delete({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: NS,
        name: 'ml-inference-gpu',
      });
    });
  },
);

/** The inference service's GPU variant: the same image, one nvidia.com/gpu per replica, on the GPU pool. */
function gpuInference(): KubeObject[] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ml-inference-gpu', namespace: NS, labels: GPU_INFERENCE },
      spec: {
        replicas: 2,
        selector: { matchLabels: GPU_INFERENCE },
        template: {
          metadata: { labels: { ...GPU_INFERENCE, 'app.kubernetes.io/version': '1.0.0' } },
          spec: {
            nodeSelector: { 'eks.amazonaws.com/nodegroup': 'gpu' },
            tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
            containers: [
              {
                name: 'inference',
                image: 'ghcr.io/ai-platform/inference:1.0.0',
                ports: [{ name: 'http', containerPort: 8080 }],
                env: [
                  { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  { name: 'PORT', value: '8080' },
                ],
                resources: {
                  requests: { cpu: '1', memory: '2Gi' },
                  limits: { memory: '2Gi', 'nvidia.com/gpu': 1 },
                },
                readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ml-inference-gpu', namespace: NS, labels: GPU_INFERENCE },
      spec: { selector: GPU_INFERENCE, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
  ];
}

export type { Environment };
