import * as hdr from 'hdr-histogram-js';

/** Client-side latency in ms, recorded in an HDR histogram (µs resolution, up to 60 s). */
export class Histogram {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });

  record(ms: number): void {
    this.h.recordValue(Math.max(1, Math.min(60_000_000, Math.round(ms * 1000))));
  }

  summary(): { p50: number; p95: number; p99: number; max: number } {
    const at = (p: number) => this.h.getValueAtPercentile(p) / 1000;
    return { p50: at(50), p95: at(95), p99: at(99), max: this.h.maxValue / 1000 };
  }
}
