import { Redis } from 'ioredis';

/**
 * One command on a short-lived connection that never retries (a probe of a server or sentinel that
 * may be down): the reply, or undefined when the server does not answer within the timeouts.
 */
export async function redisCall<T>(
  address: { host: string; port: number; password?: string },
  args: string[],
  timeouts: { connectMs: number; commandMs: number } = { connectMs: 300, commandMs: 500 },
): Promise<T | undefined> {
  const c = new Redis({
    host: address.host,
    port: address.port,
    ...(address.password ? { password: address.password } : {}),
    lazyConnect: true,
    connectTimeout: timeouts.connectMs,
    commandTimeout: timeouts.commandMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  c.on('error', () => {});
  try {
    await c.connect();
    return (await c.call(args[0]!, ...args.slice(1))) as T;
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}
