import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Gauge, Pushgateway, Registry } from 'prom-client';
import { numberFromEnv } from '../lib/config-error.ts';
import { log } from '../lib/log.ts';

/**
 * The ETL job's metrics. A batch job lives for seconds, so a scrape may never catch it: Prometheus
 * documents the Pushgateway as the way to keep a batch job's outcome
 * (https://prometheus.io/docs/practices/pushing/). So the job
 *
 * - serves GET /metrics on ${POD_IP}:${METRICS_PORT} while it runs (process and Node.js metrics, and
 *   the batch figures once known), for the pod scrape job (annotation prometheus.io/scrape);
 * - pushes the batch figures to ${PUSHGATEWAY_URL} (group job="etl") when that is set.
 *
 * Neither is on unless configured: tests and local runs start no listener.
 */
export interface JobMetrics {
  /** The port /metrics is served on, when METRICS_PORT is set. */
  readonly port: number | undefined;
  recordBatch(batch: { records: Record<string, number>; passed: boolean; seconds: number }): Promise<void>;
  close(): Promise<void>;
}

export async function startJobMetrics(env: NodeJS.ProcessEnv): Promise<JobMetrics> {
  // The batch figures are pushed on their own: a pushed group is kept until replaced, so process
  // metrics of a finished job must not go with it.
  const registry = new Registry();
  const processRegistry = new Registry();
  collectDefaultMetrics({ register: processRegistry });
  const scraped = Registry.merge([processRegistry, registry]);
  const records = new Gauge({
    name: 'etl_batch_records',
    help: 'Records of the last batch by pipeline stage (extracted, transformed, rejected, loaded).',
    labelNames: ['stage'] as const,
    registers: [registry],
  });
  const passed = new Gauge({
    name: 'etl_batch_passed',
    help: '1 when the last batch passed the quality gate, 0 when it did not.',
    registers: [registry],
  });
  const duration = new Gauge({
    name: 'etl_batch_duration_seconds',
    help: 'Wall-clock duration of the last batch.',
    registers: [registry],
  });
  const completed = new Gauge({
    name: 'etl_batch_last_completion_timestamp_seconds',
    help: 'When the last batch completed (Unix seconds).',
    registers: [registry],
  });

  let server: http.Server | undefined;
  let port: number | undefined;
  if (env['METRICS_PORT']) {
    const wanted = numberFromEnv(env, 'METRICS_PORT', 9102, { min: 0, max: 65535 });
    server = http.createServer((req, res) => {
      if (req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      void scraped.metrics().then((body) => {
        res.writeHead(200, {
          'content-type': scraped.contentType,
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(wanted, env['POD_IP'] || '0.0.0.0', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    log('info', 'metrics listening', { port });
  }

  return {
    port,
    async recordBatch(batch) {
      for (const [stage, n] of Object.entries(batch.records)) records.set({ stage }, n);
      passed.set(batch.passed ? 1 : 0);
      duration.set(batch.seconds);
      completed.setToCurrentTime();
      const gateway = env['PUSHGATEWAY_URL'];
      if (!gateway) return;
      try {
        await new Pushgateway(gateway, { timeout: 5000 }, registry).pushAdd({ jobName: 'etl' });
      } catch (err) {
        log('warn', 'pushing the batch metrics failed', { pushgateway: gateway, error: String(err) });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
