import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../kube/clock.ts';
import { handleApi } from './api/http-api.ts';
import type { PrometheusFlags } from './command-line.ts';
import { loadConfigFile, type PrometheusConfig, type ScrapeConfig } from './config/prometheus-config.ts';
import { startFileDiscovery } from './discovery/file-discovery.ts';
import { startKubernetesDiscovery } from './discovery/kubernetes/kubernetes-discovery.ts';
import { staticTargetGroups } from './discovery/static-discovery.ts';
import type { Discoverer, TargetGroupSink } from './discovery/target-group.ts';
import { Engine } from './promql/engine.ts';
import { ScrapeManager } from './scrape/scrape-manager.ts';
import { Head } from './tsdb/head.ts';

/**
 * The twin's Prometheus server: the configuration file, discovery, scraping into the in-memory
 * TSDB, and the HTTP API with the lifecycle endpoints (/-/healthy, /-/ready, /-/reload and
 * /-/quit with --web.enable-lifecycle).
 *
 * Twin simplification: samples are kept for the retention flag's time but at most 6 hours of
 * control-plane time, in memory; at the default ×100 time scale that is 3.6 minutes of real time
 * per 6 hours, longer than any scenario's queries look back.
 */
export const MAX_IN_MEMORY_RETENTION_MS = 6 * 3600_000;

export interface PrometheusServerOptions {
  flags: PrometheusFlags;
  /** The config file's path on this machine. */
  configFile: string;
  clock: Clock;
  host: string;
  port: number;
  env: NodeJS.ProcessEnv;
  /** Where the pod's service-account directory is on this machine. */
  serviceAccountDir: string;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

export class PrometheusServer {
  readonly head = new Head();
  readonly engine: Engine;
  private readonly scrapes: ScrapeManager;
  private config: PrometheusConfig | undefined;
  private server: http.Server | undefined;
  private stopRetention: (() => void) | undefined;
  private quitHandler: (() => void) | undefined;

  constructor(private readonly options: PrometheusServerOptions) {
    const { flags, clock } = options;
    this.engine = new Engine(this.head, {
      lookbackDeltaMs: flags.lookbackDeltaMs,
      defaultEvaluationIntervalMs: () => this.config?.global.evaluationIntervalMs ?? 60_000,
      timeoutMs: flags.queryTimeoutMs,
      maxSamples: flags.queryMaxSamples,
      experimentalFunctions: flags.features.includes('promql-experimental-functions'),
    });
    this.scrapes = new ScrapeManager(
      this.head,
      clock,
      (job, sink) => this.startDiscovery(job, sink),
      (m) => options.log('warn', m, { component: 'scrape manager' }),
    );
  }

  /** Loads the configuration (a ConfigError when it is invalid), then scrapes and serves. */
  async start(): Promise<void> {
    this.config = await loadConfigFile(this.options.configFile);
    const { clock, flags } = this.options;
    const retention = Math.min(flags.retentionMs, MAX_IN_MEMORY_RETENTION_MS);
    this.stopRetention = clock.every(60_000, () => this.head.truncate(clock.now() - retention));
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port, this.options.host, () => resolve());
    });
    this.options.log('info', 'Server is ready to receive web requests.', {
      address: `${this.options.host}:${this.port}`,
    });
    // Discovery starts once the web listener is up: loading the Kubernetes client takes a second
    // or more, and the probes of the pod must be answered meanwhile.
    this.scrapes.applyConfig(this.config);
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.options.port;
  }

  /** Where /-/quit asks the process to exit. */
  onQuit(handler: () => void): void {
    this.quitHandler = handler;
  }

  async reload(): Promise<void> {
    const config = await loadConfigFile(this.options.configFile);
    this.config = config;
    this.scrapes.applyConfig(config);
    this.options.log('info', 'Completed loading of configuration file', {
      filename: this.options.configFile,
    });
  }

  async close(): Promise<void> {
    this.scrapes.stop(false);
    this.stopRetention?.();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private startDiscovery(job: ScrapeConfig, sink: TargetGroupSink): Discoverer[] {
    const prefixed =
      (prefix: string): TargetGroupSink =>
      (groups) =>
        sink(groups.map((g) => ({ ...g, source: `${prefix}/${g.source}` })));
    const out: Discoverer[] = [];
    if (job.staticConfigs.length > 0) prefixed('static')(staticTargetGroups(job.staticConfigs));
    job.fileSdConfigs.forEach((f, i) => {
      out.push(
        startFileDiscovery(f, prefixed(`file/${i}`), this.options.clock, (m) =>
          this.options.log('error', m, { component: 'discovery manager scrape', discovery: 'file' }),
        ),
      );
    });
    job.kubernetesSdConfigs.forEach((k, i) => {
      try {
        out.push(
          startKubernetesDiscovery(k, prefixed(`kubernetes/${i}`), {
            env: this.options.env,
            serviceAccountDir: this.options.serviceAccountDir,
            log: (m) =>
              this.options.log('error', m, {
                component: 'discovery manager scrape',
                discovery: 'kubernetes',
              }),
          }),
        );
      } catch (err) {
        this.options.log('error', 'Cannot create service discovery', {
          component: 'discovery manager scrape',
          err: (err as Error).message,
          type: 'kubernetes',
          config: job.jobName,
        });
      }
    });
    return out;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://prometheus');
    const method = req.method ?? 'GET';
    const text = (status: number, body: string) => {
      res.writeHead(status, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    };
    if (url.pathname === '/-/healthy') return text(200, 'Prometheus Server is Healthy.\n');
    if (url.pathname === '/-/ready') return text(200, 'Prometheus Server is Ready.\n');
    if (url.pathname === '/-/reload' || url.pathname === '/-/quit') {
      if (!this.options.flags.enableLifecycle) return text(403, 'Lifecycle API is not enabled.');
      if (method !== 'POST' && method !== 'PUT') return text(405, 'Method Not Allowed\n');
      if (url.pathname === '/-/quit') {
        text(200, 'Requesting termination... Goodbye!');
        this.quitHandler?.();
        return;
      }
      try {
        await this.reload();
        return text(200, '');
      } catch (err) {
        return text(500, `failed to reload config: ${(err as Error).message}\n`);
      }
    }
    let params = url.searchParams;
    if (method === 'POST' && /form-urlencoded/.test(String(req.headers['content-type'] ?? ''))) {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      params = new URLSearchParams(url.search);
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) params.append(k, v);
    }
    const out = handleApi(method, url.pathname, params, {
      engine: this.engine,
      now: () => Math.floor(this.options.clock.now()),
      select: (sel) => (sel ? this.head.select(sel.matchers) : this.head.all()),
      activeTargets: () => this.scrapes.activeTargets(),
      droppedTargets: () => this.scrapes.droppedTargets(),
      jobNames: () => this.scrapes.jobNames(),
      externalHost: `${this.options.host}`,
    });
    res.writeHead(out.status, {
      'content-type': out.contentType,
      'content-length': Buffer.byteLength(out.body),
    });
    res.end(out.body);
  }
}
