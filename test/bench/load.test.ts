import { describe, expect, it } from 'vitest';
import { parseWrk, wrkMs } from '../../bench/load.ts';

describe('bench:load reads wrk --latency output', () => {
  it('takes req/s and the 50 % / 99 % latencies in ms', () => {
    const out = `Running 5s test @ http://127.0.0.1:40191/
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms    5.02ms  95.12ms   97.11%
    Req/Sec     8.40k     1.02k   10.11k    71.00%
  Latency Distribution
     50%    2.55ms
     75%    2.91ms
     90%    3.80ms
     99%    1.02s
  83612 requests in 5.00s, 8.69MB read
Requests/sec:  16723.45
Transfer/sec:      1.74MB
`;
    expect(parseWrk(out)).toEqual({ rps: 16723.45, p50: 2.55, p99: 1020 });
    expect(wrkMs('850.00us')).toBeCloseTo(0.85);
    expect(wrkMs('1.50m')).toBe(90_000);
    expect(wrkMs('?')).toBeNaN();
  });
});
