import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SpawnedWorkload {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  waitReady: () => Promise<void>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Runs a workload entry as the twin does (node --import tsx) on 127.0.0.1 with a port of its own choosing. */
export async function spawnWorkload(
  entry: string,
  env: Record<string, string> = {},
  /** More modules to load first (e.g. the twin's cluster DNS, twin/network/dns-preload.mjs). */
  imports: string[] = [],
): Promise<SpawnedWorkload> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', ...imports.flatMap((m) => ['--import', m]), entry],
    {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '', POD_IP: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitForLine = (predicate: (line: Record<string, unknown>) => boolean, what: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${entry}: no ${what} within 15 s:\n${output}`)),
        15_000,
      );
      const check = () => {
        for (const line of output.split('\n')) {
          if (!line.startsWith('{')) continue;
          try {
            const parsed = JSON.parse(line) as Record<string, unknown>;
            if (predicate(parsed)) {
              clearTimeout(timer);
              resolve(parsed);
              return true;
            }
          } catch {
            // partial line: wait for more output
          }
        }
        return false;
      };
      if (check()) return;
      const onData = () => {
        if (check()) child.stdout?.off('data', onData);
      };
      child.stdout?.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${entry} exited with ${code} before ${what}:\n${output}`));
      });
    });
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const listening = await waitForLine((l) => l['msg'] === 'listening', 'listening line');
  const port = Number(listening['port']);
  return {
    url: `http://${typeof listening['host'] === 'string' ? listening['host'] : '127.0.0.1'}:${port}`,
    port,
    child,
    output: () => output,
    waitReady: async () => {
      await waitForLine((l) => l['msg'] === 'ready', 'ready line');
    },
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs an entry to completion and returns its exit code and output. */
export function runToExit(entry: string, env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
