import http from 'node:http';
import { TwinError } from '../../core/errors.ts';
import type { Environment } from '../../env/environment.ts';
import { parseGoDuration } from '../../kube/duration.ts';
import type { TrafficWindow } from '../traffic/steady-traffic.ts';
import type { ProbeProvider } from './experiment.ts';
import type { ProbeValue } from './tolerance.ts';

/** What probes read besides the environment. */
export interface ProbeContext {
  env: Environment;
  /** The experiment's client traffic: snapshots with their real time (performance.now()). */
  trafficSnapshots?: () => Array<{ at: number; window: TrafficWindow }>;
  /** Runs a browser journey of the system (harness/journeys); undefined where none is wired. */
  journey?: (name: string, timeoutMs: number) => Promise<JourneyOutcome>;
}

export interface JourneyOutcome {
  ok: boolean;
  /** Real ms until the page was interactive (DOMContentLoaded); null when it never was. */
  timeToInteractiveMs: number | null;
  /** Real ms of the whole journey. */
  durationMs: number;
  consoleErrors: string[];
  /** What went wrong, in the user's terms ("the result never appeared: …"). */
  error?: string;
  /** Files kept for a failed journey (screenshot, Playwright trace), relative to the report directory. */
  attachments?: string[];
}

/** Evaluates one probe provider once. Failures to measure are a null value with the reason. */
export async function evaluateProbe(
  p: ProbeProvider,
  ctx: ProbeContext,
): Promise<ProbeValue & { error?: string }> {
  try {
    switch (p.type) {
      case 'http':
        return await httpProbe(p, ctx.env);
      case 'traffic':
        return trafficProbe(p, ctx);
      case 'metric':
        return metricProbe(p, ctx.env);
      case 'promql':
        return await promqlProbe(p, ctx.env);
      case 'journey':
        return await journeyProbe(p, ctx);
    }
  } catch (err) {
    return { value: null, error: (err as Error).message };
  }
}

async function baseUrl(
  env: Environment,
  p: {
    url?: string | undefined;
    ingress?: string | undefined;
    service?: string | undefined;
    port?: number | string | undefined;
  },
  what: string,
): Promise<string> {
  if (p.url) return p.url;
  const split = (r: string) => ({ namespace: r.split('/')[0]!, name: r.split('/')[1]! });
  if (p.ingress) return env.net.ingressUrl(split(p.ingress));
  if (p.service)
    return env.net.serviceUrl({ ...split(p.service), ...(p.port !== undefined ? { port: p.port } : {}) });
  throw new TwinError('TWIN_EXPERIMENT_INVALID', `${what}: give url, ingress or service`);
}

async function httpProbe(p: Extract<ProbeProvider, { type: 'http' }>, env: Environment): Promise<ProbeValue> {
  const base = await baseUrl(env, p, 'http probe');
  const latencies: number[] = [];
  let status = 0;
  let body = '';
  let failed = 0;
  for (let i = 0; i < p.count; i++) {
    const t0 = performance.now();
    const r = await request(new URL(p.path, base), p.method, p.timeout * 1000);
    latencies.push(performance.now() - t0);
    status = r.status;
    body = r.body;
    if (r.status === 0 || r.status >= 500) failed++;
  }
  const latency = percentile(latencies, 0.95);
  return {
    value: status,
    parts: { status, latency, body: body.slice(0, 2000), failed, errorRate: failed / p.count },
  };
}

function request(url: URL, method: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request(url, { method, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', () => resolve({ status: 0, body: 'response error' }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end();
  });
}

function trafficProbe(p: Extract<ProbeProvider, { type: 'traffic' }>, ctx: ProbeContext): ProbeValue {
  const snaps = ctx.trafficSnapshots?.() ?? [];
  if (snaps.length < 2)
    throw new TwinError(
      'TWIN_EXPERIMENT_INVALID',
      'traffic probe: the experiment has no traffic (add traffic: to it)',
    );
  const windowMs = parseGoDuration(p.window)!;
  const last = snaps.at(-1)!;
  const first = snaps.find((s) => s.at >= last.at - windowMs) ?? snaps[0]!;
  const requests = last.window.requests - first.window.requests;
  const errors = last.window.errors - first.window.errors;
  const value =
    p.metric === 'requests'
      ? requests
      : p.metric === 'errors'
        ? errors
        : requests > 0
          ? errors / requests
          : null;
  return { value, parts: { requests, errors } };
}

function metricProbe(p: Extract<ProbeProvider, { type: 'metric' }>, env: Environment): ProbeValue {
  const [namespace, name] = p.service.split('/') as [string, string];
  const windowMs = env.clock.toVirtual(parseGoDuration(p.window)!);
  const byVersion = env.net.trafficByVersion({ namespace, name }, windowMs);
  const stats = p.version ? [byVersion[p.version]].filter((s) => s !== undefined) : Object.values(byVersion);
  if (stats.length === 0)
    throw new TwinError(
      'TWIN_NOT_FOUND',
      `metric probe: no traffic of ${p.service} counted in the last ${p.window}${env.name === 'k3d' ? ' (on k3d no proxy of ours counts traffic: use an http, traffic or promql probe)' : ''}`,
    );
  const requests = stats.reduce((s, x) => s + x.requests, 0);
  const errors = stats.reduce((s, x) => s + x.errors, 0);
  if (p.metric === 'requests') return { value: requests };
  if (p.metric === 'errorRate')
    return { value: requests > 0 ? errors / requests : null, parts: { requests, errors } };
  // Percentiles of several versions: the worst, as the one a user may meet.
  const values = stats.map((s) => s[p.metric]).filter((v): v is number => v !== null);
  return { value: values.length > 0 ? Math.max(...values) : null, parts: { requests } };
}

/**
 * A PromQL instant query through the Prometheus HTTP API (GET /api/v1/query): the value of a scalar, or
 * of the first sample of a vector (its count in `parts.samples`); an empty vector is null, as a query
 * that finds no series answers nothing.
 */
async function promqlProbe(
  p: Extract<ProbeProvider, { type: 'promql' }>,
  env: Environment,
): Promise<ProbeValue> {
  const base = await baseUrl(env, p, 'promql probe');
  const url = new URL('/api/v1/query', base);
  url.searchParams.set('query', p.query);
  const r = await request(url, 'GET', p.timeout * 1000);
  if (r.status !== 200)
    throw new TwinError(
      'TWIN_PROCESS_FAILED',
      `promql probe: ${url.origin} answered ${r.status}: ${r.body.slice(0, 200)}`,
    );
  const body = JSON.parse(r.body) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: unknown };
  };
  if (body.status !== 'success')
    throw new TwinError('TWIN_PROCESS_FAILED', `promql probe: ${body.error ?? 'query failed'}`);
  const data = body.data!;
  if (data.resultType === 'scalar') return { value: Number((data.result as [number, string])[1]) };
  if (data.resultType === 'vector') {
    const samples = data.result as Array<{ value: [number, string] }>;
    return {
      value: samples.length > 0 ? Number(samples[0]!.value[1]) : null,
      parts: { samples: samples.length },
    };
  }
  throw new TwinError(
    'TWIN_EXPERIMENT_INVALID',
    `promql probe: ${p.query} gives a ${data.resultType}; give an instant vector or scalar`,
  );
}

async function journeyProbe(
  p: Extract<ProbeProvider, { type: 'journey' }>,
  ctx: ProbeContext,
): Promise<ProbeValue> {
  if (!ctx.journey)
    throw new TwinError('TWIN_EXPERIMENT_INVALID', `journey probe ${p.name}: no browser journeys here`);
  const outcomes: JourneyOutcome[] = [];
  for (let i = 0; i < p.count; i++) outcomes.push(await ctx.journey(p.name, p.timeout * 1000));
  const ok = outcomes.filter((o) => o.ok).length;
  const tti = outcomes.map((o) => o.timeToInteractiveMs).filter((v): v is number => v !== null);
  return {
    value: ok / outcomes.length,
    parts: {
      successRate: ok / outcomes.length,
      timeToInteractive: tti.length > 0 ? percentile(tti, 0.95) : null,
      consoleErrors: outcomes.reduce((s, o) => s + o.consoleErrors.length, 0),
      error: outcomes.find((o) => !o.ok)?.error ?? null,
      attachments: outcomes.flatMap((o) => o.attachments ?? []).join(' ') || null,
    },
  };
}

export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
