import { readFileSync } from 'node:fs';

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
