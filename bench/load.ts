/**
 * `npm run bench -- load`: the embedded load engine against wrk (Debian's `wrk`) on the same loopback
 * target, alternating, at the same connection count. Prints req/s for both, their ratio (target:
 * embedded ≥ 0.9× wrk) and the p50/p99 each reports.
 *
 *   --connections <n>  (default 50)   --seconds <s> per run (default 5)   --rounds <n> (default 3)
 *   --url <url>        bench against another loopback URL instead of the built-in target server
 *
 * The built-in target is a minimal Node HTTP server in its own process (so it does not share the
 * engine's event loop); on a 2-core machine it is the bottleneck for both clients, as FINDINGS notes.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { runProfile } from '../harness/load/engine.ts';

const run = promisify(execFile);

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  /** CPU time (user + system) the client spent per request, µs (embedded engine only). */
  cpuUs?: number;
}

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

const TARGET_SERVER = `
const http = require('node:http');
const server = http.createServer({ keepAlive: true }, (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
`;

async function startTarget(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', TARGET_SERVER], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (c) => reject(new Error(`target server exited with ${c}`)));
  });
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill('SIGTERM') };
}

/** wrk's latency figures ("2.10ms", "850.00us", "1.02s") in ms. */
export function wrkMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

export function parseWrk(out: string): Figures {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = wrkMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? '');
  const p99 = wrkMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '');
  return { rps, p50, p99 };
}

async function wrk(url: string, connections: number, seconds: number): Promise<Figures> {
  const threads = Math.min(2, connections);
  const { stdout } = await run('wrk', [
    `-t${threads}`,
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    url,
  ]);
  return parseWrk(stdout);
}

async function embedded(url: string, connections: number, seconds: number): Promise<Figures> {
  const c0 = process.cpuUsage();
  const r = await runProfile(
    {
      name: 'bench',
      target: { kind: 'Service', namespace: 'bench', name: 'target' },
      scenario: { executor: 'constant-vus', vus: connections, duration: `${seconds}s`, gracefulStop: '5s' },
      requests: [{ path: new URL(url).pathname }],
    },
    { baseUrl: new URL(url).origin },
  );
  const d = r.metrics['http_req_duration']!.values;
  const reqs = r.metrics['http_reqs']!.values['count']!;
  const cpu = process.cpuUsage(c0);
  return { rps: reqs / seconds, p50: d['med']!, p99: d['p(99)']!, cpuUs: (cpu.user + cpu.system) / reqs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (n: number, d = 0) => n.toFixed(d);

export async function benchLoad(args: string[]): Promise<void> {
  const connections = Number(arg(args, '--connections', '50'));
  const seconds = Number(arg(args, '--seconds', '5'));
  const rounds = Number(arg(args, '--rounds', '3'));
  try {
    await run('wrk', ['--version']).catch((e: { stdout?: string }) => {
      if (!String(e.stdout ?? '').includes('wrk')) throw e;
    });
  } catch {
    console.error('bench:load needs wrk on the PATH (Debian: apt-get install -y wrk)');
    process.exitCode = 2;
    return;
  }
  const given = arg(args, '--url', '');
  const target = given ? { url: given, stop: () => {} } : await startTarget();
  const host = new URL(target.url).hostname;
  if (!host.startsWith('127.') && host !== 'localhost') {
    console.error(`bench:load sends load only to loopback targets, not ${host}`);
    process.exitCode = 2;
    target.stop();
    return;
  }
  console.log(
    `bench:load  target ${target.url}, ${connections} connections, ${seconds} s per run, ${rounds} rounds (alternating)`,
  );
  const w: Figures[] = [];
  const e: Figures[] = [];
  try {
    // Warm-up (JIT, connections) is not counted.
    await embedded(target.url, connections, 1);
    for (let i = 0; i < rounds; i++) {
      const a = await wrk(target.url, connections, seconds);
      const b = await embedded(target.url, connections, seconds);
      w.push(a);
      e.push(b);
      console.log(
        `  round ${i + 1}: wrk ${f(a.rps)} req/s (p50 ${f(a.p50, 2)} ms, p99 ${f(a.p99, 2)} ms) · embedded ${f(b.rps)} req/s (p50 ${f(b.p50, 2)} ms, p99 ${f(b.p99, 2)} ms, ${f(b.cpuUs ?? 0)} µs CPU/request) · ratio ${(b.rps / a.rps).toFixed(2)}`,
      );
    }
  } finally {
    target.stop();
  }
  const wr = median(w.map((x) => x.rps));
  const er = median(e.map((x) => x.rps));
  const ratio = er / wr;
  console.log(
    `bench:load  median: wrk ${f(wr)} req/s (p50 ${f(median(w.map((x) => x.p50)), 2)} ms, p99 ${f(median(w.map((x) => x.p99)), 2)} ms) · embedded ${f(er)} req/s (p50 ${f(median(e.map((x) => x.p50)), 2)} ms, p99 ${f(median(e.map((x) => x.p99)), 2)} ms) · embedded/wrk ${ratio.toFixed(2)} (target ≥ 0.90)`,
  );
  if (ratio < 0.9) process.exitCode = 1;
}
