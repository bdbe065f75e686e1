import { readdirSync, readFileSync } from 'node:fs';

/**
 * Whether a process runs. A zombie (exited, not yet reaped by its parent) counts as stopped; a
 * process of another user (EPERM) counts as running. Without procfs (macOS) signal 0 decides.
 */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return process.platform !== 'linux'; // on Linux a missing /proc entry means it is gone
  }
}

/**
 * When a process started: field 22 of /proc/<pid>/stat (clock ticks since boot), or undefined without
 * procfs or for a process that is gone. A pid with another start time is another process (pid reuse).
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether `pid` is still the process that started at `startTime` (pid alone where procfs is missing). */
export function isSameProcess(pid: number, startTime: string | undefined): boolean {
  if (!processRuns(pid)) return false;
  if (startTime === undefined || process.platform !== 'linux') return true;
  return processStartTime(pid) === startTime;
}

const trackedGroups = new Set<number>();
let exitHook = false;

/**
 * Remembers a process group this process started, so that however this process ends (an exit, an
 * uncaught error, a forced exit after a signal) the group gets SIGKILL instead of outliving it.
 * Returns the function that forgets it (once the group has been stopped in order).
 */
export function trackProcessGroup(pgid: number): () => void {
  trackedGroups.add(pgid);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', killTrackedProcessGroups);
  }
  return () => trackedGroups.delete(pgid);
}

/** SIGKILL to every tracked process group (synchronous: usable in an exit handler). */
export function killTrackedProcessGroups(): number {
  let n = 0;
  for (const pgid of trackedGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
      n++;
    } catch {}
  }
  trackedGroups.clear();
  return n;
}

/** The direct children of a process (from /proc/<pid>/task/<tid>/children; empty without procfs). */
export function childPids(pid = process.pid): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
        if (text) out.push(...text.split(/\s+/).map(Number));
      } catch {}
    }
  } catch {}
  return out;
}

/**
 * Processes of this user whose environment holds `marker` (e.g. `TWIN_DNS_FILE=<workDir>/`): the pods
 * a crashed twin left. Empty without procfs; processes whose environment cannot be read are skipped.
 */
export function processesWithEnvironment(marker: string): number[] {
  const pids: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}
