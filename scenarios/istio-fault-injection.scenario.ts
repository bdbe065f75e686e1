import { Agent, request } from 'node:http';
import { expect, it } from 'vitest';
import type { Environment } from '../env/environment.ts';
import { scenario } from '../harness/index.ts';
import { squareImage, until } from './support/imageflow.ts';

/** The seed's VirtualService (seed 003 §8.3.1) and the host its Gateway serves. */
const VIRTUAL_SERVICE = {
  apiVersion: 'networking.istio.io/v1beta1',
  kind: 'VirtualService',
  namespace: 'imageflow-backend',
  name: 'imageflow-api',
};
const HOST = 'api.imageflow.com';
/** Istio's default install: the ingress gateway Service the Gateway imageflow-gateway selects. */
const GATEWAY = { namespace: 'istio-system', name: 'istio-ingressgateway', port: 80 };
const SEED_DELAY_MS = 5000;

interface Burst {
  requests: number;
  errors: number;
  /** Requests that took at least the seed's fixed delay. */
  delayed: number;
  p95: number;
}

/** `total` GETs of a job's status through the gateway, `concurrency` at a time, as users polling it. */
async function burst(gateway: string, path: string, total: number, concurrency: number): Promise<Burst> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request(`${gateway}${path}`, { headers: { host: HOST }, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          if ((res.statusCode ?? 0) >= 500) errors++;
          resolve();
        });
      });
      req.on('error', () => {
        latencies.push(performance.now() - t0);
        errors++;
        resolve();
      });
      req.end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await one();
    }),
  );
  agent.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    delayed: latencies.filter((l) => l >= SEED_DELAY_MS - 50).length,
    p95: sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? 0,
  };
}

function post(gateway: string, body: Buffer): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${gateway}/v1/jobs`,
      { method: 'POST', headers: { host: HOST }, agent: false },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The chaos lever: the fault of the seed's route, changed through the Kubernetes API (as `kubectl patch` would). */
async function setFault(env: Environment, fault: Record<string, unknown> | undefined): Promise<void> {
  await env.kube.patch(VIRTUAL_SERVICE, (vs) => {
    const route = vs.spec.http[0];
    if (fault) route.fault = fault;
    else delete route.fault;
  });
}

/**
 * ImageFlowCanvas's Istio rules (seed 003 §8.3.1): requests for api.imageflow.com under /v1/ pass the
 * ingress gateway to backend-api with a 5 s delay injected into 0.1 % of them and 3 retries of 10 s.
 * As the seed writes it, users see no errors and the delay stays out of the 95th percentile. The chaos
 * lever raises the delay to 20 % and adds an abort of 10 % with 503: the 3 retries do not hide the
 * aborts (Istio applies a route's retries to the upstream, never to a fault it injects itself), so
 * users see about 10 % errors, and a fifth of them wait 5 s. Restoring the seed's rule restores the
 * steady state.
 */
scenario('istio-fault-injection', { system: 'imageflowcanvas', upTimeoutMs: 240_000 }, (s) => {
  it('keeps errors at 0 and p95 low under the seed’s rule; retries do not mask injected aborts', async () => {
    const env = s.env;
    const gateway = await env.net.serviceUrl(GATEWAY);
    const seedRule = (await env.kube.get(VIRTUAL_SERVICE))?.spec?.http?.[0]?.fault;
    expect(seedRule, 'the seed’s fault rule').toEqual({
      delay: { percentage: { value: 0.1 }, fixedDelay: '5s' },
    });
    const jobId = await s.step('post an image through the gateway (backend, MinIO and Kafka up)', () =>
      until('POST /v1/jobs through the gateway answered 202', 180_000, async () => {
        const r = await post(gateway, squareImage(1));
        return r.status === 202 ? (r.json.jobId as string) : undefined;
      }),
    );
    const path = `/v1/jobs/${jobId}`;

    const steady = await s.step(
      'steady state: 1000 status requests, 20 at a time, under the seed’s rule',
      () => burst(gateway, path, 1000, 20),
    );
    s.measure('error rate under the seed’s rule', (steady.errors / steady.requests) * 100, '%', {
      equals: 0,
      description: 'a delay fails nothing: 5 s stays under the 10 s per-try timeout',
    });
    s.measure('requests delayed 5 s under the seed’s rule', (steady.delayed / steady.requests) * 100, '%', {
      below: 1,
      description: 'the seed injects the delay into 0.1 % of requests',
    });
    s.measure('p95 latency under the seed’s rule', steady.p95, 'ms', {
      below: SEED_DELAY_MS,
      description: '0.1 % of delayed requests do not reach the 95th percentile',
    });

    await s.step('chaos lever: delay 20 % and abort 10 % with 503 on the seed’s route', () =>
      setFault(env, {
        delay: { percentage: { value: 20 }, fixedDelay: '5s' },
        abort: { percentage: { value: 10 }, httpStatus: 503 },
      }),
    );
    const chaos = await s.step('400 status requests, 50 at a time, under the raised faults', () =>
      burst(gateway, path, 400, 50),
    );
    s.measure('error rate with 10 % aborts and 3 retries', (chaos.errors / chaos.requests) * 100, '%', {
      atLeast: 5,
      description: 'Istio does not retry a fault it injects: about 10 % of users see the 503',
    });
    s.measure('error rate with 10 % aborts (upper bound)', (chaos.errors / chaos.requests) * 100, '%', {
      atMost: 16,
    });
    s.measure('requests delayed 5 s with a 20 % delay', (chaos.delayed / chaos.requests) * 100, '%', {
      atLeast: 12,
      description: 'independent of the abort: a delayed request may still be aborted',
    });
    s.measure('p95 latency with a 20 % delay', chaos.p95, 'ms', { atLeast: SEED_DELAY_MS - 50 });

    await s.step('restore the seed’s rule', () => setFault(env, seedRule));
    const after = await s.step('200 status requests under the seed’s rule again', () =>
      burst(gateway, path, 200, 20),
    );
    s.measure('error rate after restoring the seed’s rule', (after.errors / after.requests) * 100, '%', {
      equals: 0,
    });
  });
});
