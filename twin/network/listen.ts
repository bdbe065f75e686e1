import type { Server } from 'node:net';

/**
 * Listens on host:port. Where a port below 1024 may not be bound (no root, no
 * net.ipv4.ip_unprivileged_port_start=0), it falls back to an ephemeral port and says so through
 * `log`; the caller reads the port actually bound from the result.
 */
export async function listen(
  server: Server,
  host: string,
  port: number,
  log?: (m: string) => void,
): Promise<number> {
  try {
    return await listenOnce(server, host, port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES' || port >= 1024 || port === 0) throw err;
    const bound = await listenOnce(server, host, 0);
    log?.(
      `cannot bind ${host}:${port} without privileges; listening on ${host}:${bound} instead. ` +
        'To keep Service ports as written, run `sudo sysctl net.ipv4.ip_unprivileged_port_start=0`',
    );
    return bound;
  }
}

function listenOnce(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}
