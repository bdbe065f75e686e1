import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { TwinError } from '../../core/errors.ts';
import { isSameProcess, processStartTime } from '../../core/process.ts';

/**
 * The state file of `twin up` (`<work-dir>/state.json`): written first, with the exclusive flag, so it
 * is also the work directory's lock; it names the process by pid and start time (from
 * /proc/<pid>/stat), so `twin down` never signals another process that got the pid later.
 */
const upStateSchema = z
  .object({
    kind: z.literal('TwinUpState'),
    phase: z.enum(['starting', 'up']),
    pid: z.number().int().positive(),
    /** /proc/<pid>/stat field 22; absent where procfs is missing. */
    startTime: z.string().optional(),
    system: z.string(),
    env: z.string(),
    /** The cluster profile the twin was brought up as (eks when none was given). */
    profile: z.string().optional(),
    startedAt: z.string(),
    timeScale: z.number(),
    workDir: z.string(),
    ingresses: z.record(z.string(), z.string()),
    workloads: z.array(z.string()),
    /** The environment's kubeconfig (`twin kubeconfig` prints it). */
    kubeconfig: z.string().optional(),
  })
  .strict();

export type UpState = z.infer<typeof upStateSchema>;

export const stateFile = (root: string) => path.join(root, 'state.json');

/** The state file, undefined when there is none; one that is not a state file is an error (exit 2). */
export function readUpState(root: string): UpState | undefined {
  const file = stateFile(root);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TwinError('TWIN_STATE_INVALID', `${file}: cannot read it: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw corrupt(file, `not JSON (${(err as Error).message})`);
  }
  const parsed = upStateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw corrupt(file, `${issue.path.join('.') || '(document)'}: ${issue.message}`);
  }
  return parsed.data;
}

function corrupt(file: string, problem: string): TwinError {
  return new TwinError(
    'TWIN_STATE_INVALID',
    `${file}: not a twin up state file: ${problem}; it is left as it is: check that no twin runs from this work directory (ps), then delete it`,
  );
}

/** Whether the process the state names still runs (the same pid and start time). */
export function stateOwnerRuns(state: UpState): boolean {
  return isSameProcess(state.pid, state.startTime);
}

export type Claim = { claimed: true } | { claimed: false; holder: UpState };

/** Creates the state file for this process unless one exists; then it returns the holder's state. */
export function claimUpState(root: string, state: Omit<UpState, 'pid' | 'startTime'>): Claim {
  const file = stateFile(root);
  const own: UpState = { ...state, pid: process.pid, ...startTimeOf(process.pid) };
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const holder = readUpState(root);
    if (!holder) return claimUpState(root, state); // removed meanwhile
    return { claimed: false, holder };
  }
  try {
    writeSync(fd, `${JSON.stringify(own, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  return { claimed: true };
}

function startTimeOf(pid: number): { startTime?: string } {
  const t = processStartTime(pid);
  return t ? { startTime: t } : {};
}

/** Rewrites this process's state (atomically: readers never see half a file). */
export function updateUpState(root: string, update: Partial<UpState>): void {
  const file = stateFile(root);
  const current = readUpState(root);
  if (!current || current.pid !== process.pid) return;
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ ...current, ...update }, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Removes the state file if `owner` is still the process it names. */
export function releaseUpState(root: string, owner: { pid: number; startTime?: string | undefined }): void {
  let current: UpState | undefined;
  try {
    current = readUpState(root);
  } catch {
    return; // not ours to delete
  }
  if (current && current.pid === owner.pid && current.startTime === owner.startTime)
    rmSync(stateFile(root), { force: true });
}
