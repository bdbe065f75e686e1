import { expect, it } from 'vitest';
import { scenario } from '../harness/index.ts';
import { squareImage, until, waitForImageflowDeployments } from './support/imageflow.ts';

const BACKEND = { namespace: 'imageflow-backend', name: 'backend-api', port: 8000 };
const FIRST = 10;
const DURING = 10;
/**
 * ImageFlowCanvas (seed 003) loses its only GPU worker mid-batch. Jobs keep being accepted (Kafka
 * keeps them), but the detect stage has nowhere to run: its pod cannot be rescheduled (no other node
 * has an nvidia.com/gpu), so the backlog grows. When the node returns, detect runs again and the
 * workers drain the backlog. Measured: the backlog while the node is down, and the time from the node's
 * return until every accepted job completed; no accepted job may be lost.
 */
scenario(
  'gpu-worker-loss',
  { system: 'imageflowcanvas', upTimeoutMs: 240_000, faults: ['stopNode', 'startNode'] },
  (s) => {
    it('holds the jobs while the GPU node is lost and drains them once it returns, losing none', async () => {
      const env = s.env;
      await s.step('wait for the processing services, the backend and the workers', () =>
        waitForImageflowDeployments(env),
      );
      const backend = await env.net.serviceUrl(BACKEND);
      await s.step('wait for the backend to be ready', () =>
        until('backend /readyz', 120_000, async () => (await fetch(`${backend}/readyz`)).ok),
      );
      const accepted: string[] = [];
      const post = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const res = await fetch(`${backend}/v1/jobs`, {
            method: 'POST',
            body: new Uint8Array(squareImage(i)),
          });
          expect(res.status, 'POST /v1/jobs').toBe(202);
          accepted.push(((await res.json()) as { jobId: string }).jobId);
        }
      };
      const pending = async () => {
        const statuses = await Promise.all(
          accepted.map((id) =>
            fetch(`${backend}/v1/jobs/${id}`)
              .then(async (r) => ((await r.json()) as { status: string }).status)
              .catch(() => 'unknown'),
          ),
        );
        return accepted.filter((_, i) => statuses[i] !== 'completed').length;
      };

      await s.step(`post ${FIRST} images and let them complete`, async () => {
        await post(FIRST);
        await until('the first jobs completed', 120_000, async () => (await pending()) === 0);
      });

      const nodes = await env.kube.list({ kind: 'Node' });
      const gpuNode = nodes.find((n) => n.metadata.labels?.['node-type'] === 'gpu-enabled')!.metadata.name;
      await s.step(`power off the GPU node ${gpuNode}`, () => env.faults.stopNode(gpuNode));
      await s.step(`post ${DURING} images while it is down`, () => post(DURING));
      await new Promise((r) => setTimeout(r, 5000));
      const backlog = await pending();
      s.measure('jobs waiting while the GPU node is down (after 5 s)', backlog, 'jobs', {
        atLeast: 1,
        description: 'detect has no GPU to run on, so accepted jobs wait in Kafka',
      });
      const detectPods = await env.kube.list(
        { kind: 'Pod' },
        { namespace: 'imageflow-processing', labelSelector: { matchLabels: { app: 'detect' } } },
      );
      s.measure(
        'detect pods running on another node while the GPU node is down',
        detectPods.filter(
          (p) => p.spec?.nodeName && p.spec.nodeName !== gpuNode && p.status?.phase === 'Running',
        ).length,
        'pods',
        { equals: 0 },
      );

      const returnedAt = performance.now();
      await s.step(`power the GPU node ${gpuNode} on again`, () => env.faults.startNode(gpuNode));
      const left = await s.step('wait until every accepted job is completed (at most 180 s)', async () => {
        const deadline = Date.now() + 180_000;
        for (;;) {
          const n = await pending();
          if (n === 0 || Date.now() > deadline) return n;
          await new Promise((r) => setTimeout(r, 1000));
        }
      });
      s.measure('accepted jobs not completed (lost)', left, 'jobs', { equals: 0 });
      s.measure(
        'time from the GPU node back until the backlog drained',
        (performance.now() - returnedAt) / 1000,
        's',
        {
          below: 120,
        },
      );
    });
  },
);
