import type { CircuitBreakerThresholds } from './route-table.ts';

/**
 * Envoy's per-cluster circuit breakers (cluster.v3 CircuitBreakers, default priority). With HTTP/1.1 an
 * upstream connection carries one request at a time, so a request holds a connection while it is
 * active: beyond max_connections it waits as a pending request, and beyond max_pending_requests it is
 * answered 503 at once (response flag UO, x-envoy-overloaded). max_requests bounds the requests
 * active at once, max_retries the retries outstanding at once: a retry over it is not made.
 *
 * Twin simplification: connections are counted as active requests (Envoy's HTTP/1.1 pool keeps idle
 * connections too, which count against max_connections until they close).
 */
export class CircuitBreaker {
  private active = 0;
  private retries = 0;
  private readonly pending: Array<() => void> = [];

  constructor(readonly thresholds: CircuitBreakerThresholds) {}

  /**
   * A request asks for a connection: it resolves to a release function once it has one, or to
   * 'overflow' when the pending queue is full (or max_requests is reached).
   */
  acquire(): Promise<(() => void) | 'overflow'> {
    if (this.active >= this.thresholds.maxRequests && this.active < this.thresholds.maxConnections)
      return Promise.resolve('overflow');
    if (this.active < this.thresholds.maxConnections) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.pending.length >= this.thresholds.maxPendingRequests) return Promise.resolve('overflow');
    return new Promise((resolve) => {
      this.pending.push(() => {
        this.active++;
        resolve(this.releaser());
      });
    });
  }

  /** Whether another retry may start now; when it may, the caller must call the returned release. */
  tryRetry(): (() => void) | undefined {
    if (this.retries >= this.thresholds.maxRetries) return undefined;
    this.retries++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.retries--;
    };
  }

  get activeRequests(): number {
    return this.active;
  }

  get pendingRequests(): number {
    return this.pending.length;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      const next = this.pending.shift();
      if (next) next();
    };
  }
}
