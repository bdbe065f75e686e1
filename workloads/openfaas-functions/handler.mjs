// The Node.js function of seed 004 (node:18-alpine in production), forked by the watchdog for each
// call: the request body (JSON) on stdin, the answer on stdout. It does the work the call asks for,
// so a load profile can drive its CPU and memory: cpuMs of computation, allocMb of memory held until
// it answers, sleepMs of waiting (from the JSON body, or the query of a GET).
import { createHash } from 'node:crypto';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const text = Buffer.concat(chunks).toString('utf8');
// The call's query (the watchdog passes it in Http_Query) gives the same fields for a GET; the body wins.
const query = Object.fromEntries(new URLSearchParams(process.env.Http_Query ?? ''));
const input = { ...query, ...(text.trim() ? JSON.parse(text) : {}) };
const cpuMs = Math.max(0, Number(input.cpuMs ?? 0));
const allocMb = Math.max(0, Number(input.allocMb ?? 0));
const sleepMs = Math.max(0, Number(input.sleepMs ?? 0));

const held = [];
for (let i = 0; i < allocMb; i++) held.push(Buffer.alloc(1024 * 1024, i & 0xff));
const until = performance.now() + cpuMs;
let digest = Buffer.alloc(32);
let rounds = 0;
while (performance.now() < until) {
  digest = createHash('sha256').update(digest).digest();
  rounds++;
}
if (sleepMs > 0) await new Promise((r) => setTimeout(r, sleepMs));
process.stdout.write(
  JSON.stringify({
    runtime: 'nodejs',
    version: process.version,
    rounds,
    allocatedMb: held.length,
    sleptMs: sleepMs,
  }),
);
