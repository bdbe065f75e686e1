import type { Clock } from '../../kube/clock.ts';

/**
 * client-go's token-bucket rate limiter (flowcontrol.NewTokenBucketRateLimiter) on the control-plane
 * clock: `qps` tokens per second up to `burst`; a qps of 0 accepts nothing.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly clock: Clock,
    private qpsValue: number,
    private readonly burst = 1,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  get qps(): number {
    return this.qpsValue;
  }

  /** Changes the rate (SwapLimiter); the new bucket starts full, as client-go's does. */
  setQps(qps: number): void {
    if (qps === this.qpsValue) return;
    this.qpsValue = qps;
    this.tokens = qps > 0 ? this.burst : 0;
    this.last = this.clock.now();
  }

  tryAccept(): boolean {
    const now = this.clock.now();
    if (this.qpsValue <= 0) return false;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qpsValue);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
