/**
 * What every live-program entrypoint of the twin does the same way: resolve a cluster name through
 * the twin's DNS (the programs themselves use the system resolver, which does not know them), run
 * the server as the container's main process (signals passed on, killed with its launcher), and
 * turn the outcome into the container's exit code (127 when a program is not installed).
 */
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { isTwinError } from '../../core/errors.ts';
import { waitUntil } from '../../core/wait.ts';

/** The IPv4 address of a cluster name (a Service, a pod's host name), waiting until it exists. */
export async function resolveHost(host: string, timeoutMs: number): Promise<string> {
  return waitUntil(async () => (await lookup(host, { family: 4 })).address, {
    what: `${host} to resolve`,
    timeout: timeoutMs,
    interval: 250,
    retryIf: () => true,
  });
}

export interface ServerChild {
  /** Whether the server is still running. */
  running(): boolean;
  /** The container's exit code once the server has exited (137 for SIGKILL, 143 for other signals). */
  exited: Promise<number>;
}

/**
 * Runs argv as the container's server: stdio inherited, killed when this process exits, and each
 * signal of `forward` passed on (mapped through `as`, e.g. SIGTERM → SIGINT for PgBouncer).
 */
export function runServer(
  argv: string[],
  forward: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
  as: Partial<Record<NodeJS.Signals, NodeJS.Signals>> = {},
): ServerChild {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  process.on('exit', () => child.kill('SIGKILL'));
  for (const sig of forward) process.on(sig, () => child.kill(as[sig] ?? sig));
  return {
    running: () => child.exitCode === null && child.signalCode === null,
    exited: new Promise<number>((resolve) =>
      child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 143))),
    ),
  };
}

/** Runs an entrypoint's main and exits with its code; an error is logged (127: program not installed). */
export function runEntrypoint(main: () => Promise<number>, log: (message: string) => void): void {
  main().then(
    (code) => process.exit(code),
    (err) => {
      log(isTwinError(err) ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(isTwinError(err, 'TWIN_BINARY_NOT_FOUND') ? 127 : 1);
    },
  );
}
