import type { LocalRateLimitSpec } from './envoy-bootstrap.ts';

/**
 * envoy.filters.http.local_ratelimit's token bucket: it starts full (max_tokens), gains tokens_per_fill
 * every fill_interval up to max_tokens, and each request checked takes one. A request the filter
 * enforces on that finds the bucket empty is answered 429 `local_rate_limited`; one it only checks
 * (filter_enabled but not filter_enforced) passes.
 */
export class LocalRateLimiter {
  private tokens: number;
  private lastFill: number;

  constructor(
    readonly spec: LocalRateLimitSpec,
    private readonly now: () => number = () => performance.now(),
    private readonly random: () => number = Math.random,
  ) {
    this.tokens = spec.maxTokens;
    this.lastFill = now();
  }

  /** True when the request may pass. */
  admit(): boolean {
    if (this.random() * 100 >= this.spec.enabledPercent) return true;
    this.refill();
    if (this.tokens >= 1) {
      this.tokens--;
      return true;
    }
    return this.random() * 100 >= this.spec.enforcedPercent;
  }

  private refill(): void {
    const now = this.now();
    const fills = Math.floor((now - this.lastFill) / this.spec.fillIntervalMs);
    if (fills <= 0) return;
    this.tokens = Math.min(this.spec.maxTokens, this.tokens + fills * this.spec.tokensPerFill);
    this.lastFill += fills * this.spec.fillIntervalMs;
  }
}
