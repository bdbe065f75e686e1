import { connect } from 'node:net';
import type { ConnectResult } from '../../kube/connectivity.ts';

/**
 * One real TCP connection attempt: connected, refused (RST: nothing listens, or reset), or timed out
 * (no answer within `timeoutMs`: a dropped SYN, as NetworkPolicy denies a connection).
 */
export function attemptConnection(target: {
  host: string;
  port: number;
  localAddress?: string;
  timeoutMs: number;
}): Promise<Omit<ConnectResult, 'detail'>> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = connect({
      host: target.host,
      port: target.port,
      ...(target.localAddress ? { localAddress: target.localAddress } : {}),
    });
    let done = false;
    const finish = (outcome: ConnectResult['outcome']) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ outcome, elapsedMs: Math.round(performance.now() - t0) });
    };
    // On a busy event loop the timer and the connect may be due together: let pending I/O land first.
    const timer = setTimeout(() => setImmediate(() => finish('timed-out')), target.timeoutMs);
    socket.once('connect', () => finish('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish(err.code === 'ETIMEDOUT' ? 'timed-out' : 'refused'),
    );
  });
}
