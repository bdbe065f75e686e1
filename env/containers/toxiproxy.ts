import { type StartedToxiProxyContainer, ToxiProxyContainer } from '@testcontainers/toxiproxy';
import { imageFor } from './images.ts';
import type { ServiceOptions } from './services.ts';

/**
 * Latency between the scenario (or pods, through host.k3d.internal) and a service: a Toxiproxy
 * container proxies to the upstream, and a `latency` toxic delays what flows back (Toxiproxy's
 * downstream: server → client). Disabling the proxy cuts the connection (a partition of that path).
 */
/** Toxiproxy's toxic body (POST /proxies/{proxy}/toxics). */
export interface LatencyToxicBody {
  name: string;
  type: 'latency';
  stream: 'upstream' | 'downstream';
  toxicity: number;
  attributes: { latency: number; jitter: number };
}

export function latencyToxic(latencyMs: number, jitterMs = 0): LatencyToxicBody {
  return {
    name: `latency-${latencyMs}ms`,
    type: 'latency',
    stream: 'downstream',
    toxicity: 1,
    attributes: { latency: latencyMs, jitter: jitterMs },
  };
}

export interface LatencyPath {
  /** host:port to use instead of the upstream. */
  host: string;
  port: number;
  setLatency(latencyMs: number, jitterMs?: number): Promise<void>;
  /** false: connections through the path are refused (a partition); true: restored. */
  setEnabled(enabled: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** A Toxiproxy in front of `upstream` (host:port as the Toxiproxy container reaches it). */
export async function latencyPath(upstream: string, options: ServiceOptions = {}): Promise<LatencyPath> {
  const container: StartedToxiProxyContainer = await new ToxiProxyContainer(
    imageFor('toxiproxy', options.env, options.images),
  ).start();
  const proxy = await container.createProxy({ name: 'twin', upstream });
  let current: { remove(): Promise<unknown> } | undefined;
  return {
    host: proxy.host,
    port: proxy.port,
    async setLatency(latencyMs, jitterMs = 0) {
      await current?.remove();
      current = latencyMs > 0 ? await proxy.instance.addToxic(latencyToxic(latencyMs, jitterMs)) : undefined;
    },
    async setEnabled(enabled) {
      await proxy.setEnabled(enabled);
    },
    async stop() {
      await container.stop();
    },
  };
}
