import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Clock ticks per second of /proc's CPU times (USER_HZ): 100 on Linux for every architecture the twin runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_SIZE = 4096;

/** What the processes of some process groups have used: CPU time (seconds, children reaped included) and resident memory (bytes). */
export interface ProcessGroupUsage {
  cpuSeconds: number;
  memoryBytes: number;
  processes: number;
}

/** One /proc/<pid>/stat line, the fields the usage needs (proc(5): fields after the parenthesised command). */
export function parseProcStat(line: string): { pgrp: number; ticks: number; rssPages: number } | undefined {
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // f[0] is field 3 (state): field n is f[n - 3].
  const num = (n: number) => Number(f[n - 3]);
  const pgrp = num(5);
  const ticks = num(14) + num(15) + num(16) + num(17); // utime stime cutime cstime
  const rssPages = num(24);
  if (![pgrp, ticks, rssPages].every(Number.isFinite)) return undefined;
  return { pgrp, ticks, rssPages };
}

/**
 * The usage of the processes of each given process group, from one pass over /proc (a live container
 * is one process group: its main process and what it forks). A process's own CPU time counts while it
 * runs; once it exits and its parent reaps it, its time is in the parent's cutime/cstime, so nothing
 * is counted twice.
 */
export function processGroupsUsage(
  groups: ReadonlySet<number>,
  procDir = '/proc',
): Map<number, ProcessGroupUsage> {
  const out = new Map<number, ProcessGroupUsage>();
  for (const g of groups) out.set(g, { cpuSeconds: 0, memoryBytes: 0, processes: 0 });
  let entries: string[];
  try {
    entries = readdirSync(procDir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let line: string;
    try {
      line = readFileSync(path.join(procDir, name, 'stat'), 'utf8');
    } catch {
      continue; // exited between the listing and the read
    }
    const stat = parseProcStat(line);
    const u = stat && out.get(stat.pgrp);
    if (!stat || !u) continue;
    u.cpuSeconds += stat.ticks / CLOCK_TICKS_PER_SECOND;
    u.memoryBytes += stat.rssPages * PAGE_SIZE;
    u.processes++;
  }
  return out;
}
