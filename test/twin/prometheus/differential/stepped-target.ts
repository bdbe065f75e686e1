import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';

/**
 * A scrape target whose samples carry explicit timestamps (honored by both servers): prom-client
 * metrics set to the values of a step, exposed with that step's timestamp. Both Prometheus servers
 * then store the same samples at the same times whenever they scrape, so their answers can be
 * compared without scrape-timing jitter.
 */
export class SteppedTarget {
  readonly registry = new Registry();
  private body = '';
  private server: http.Server | undefined;
  /** Set to false to serve 503 (a down target). */
  up = true;

  constructor(readonly host: string) {}

  async start(): Promise<string> {
    this.server = http.createServer((_req, res) => {
      if (!this.up) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': this.registry.contentType });
      res.end(this.body);
    });
    await new Promise<void>((r) => this.server!.listen(0, this.host, r));
    return `${this.host}:${(this.server.address() as AddressInfo).port}`;
  }

  /** Exposes the registry's current values, every sample stamped with `t` (ms); `timestamped: false` leaves them bare. */
  async publish(t: number, timestamped = true): Promise<void> {
    const text = await this.registry.metrics();
    this.body = timestamped
      ? text
          .split('\n')
          .map((l) => (l === '' || l.startsWith('#') ? l : `${l} ${t}`))
          .join('\n')
      : text;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
