import { existsSync } from 'node:fs';
import path from 'node:path';
import { processesWithEnvironment, processRuns } from '../../core/process.ts';
import { waitUntil } from '../../core/wait.ts';
import { relocatedDir, removeRelocatedPodsDir } from '../../twin/kubelet/pods-dir.ts';

/**
 * What a local twin that died without tearing down (SIGKILL, a crash) can have left in its work
 * directory's name: pod processes that outlived it (a pod's orphan guard normally ends them within
 * a second) and the relocated pods and volumes directories under the temporary directory. Removes them; returns
 * what it removed, for the user to read.
 */
export async function reclaimLocal(workDir: string): Promise<string[]> {
  const removed: string[] = [];
  // Every live container gets TWIN_DNS_FILE=<workDir>/network/cluster-dns.json.
  const marker = `TWIN_DNS_FILE=${path.join(path.resolve(workDir), 'network', 'cluster-dns.json')}\0`;
  const pids = processesWithEnvironment(marker);
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL'); // each container is its own process group
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
  if (pids.length > 0) {
    await waitUntil(() => pids.every((p) => !processRuns(p)), {
      what: `${pids.length} leftover pod processes to exit`,
      timeout: 5000,
      interval: 50,
    });
    removed.push(`${pids.length} pod processes (${pids.join(', ')})`);
  }
  for (const relocated of [relocatedDir(workDir, 'pods'), relocatedDir(workDir, 'volumes')]) {
    if (!existsSync(relocated)) continue;
    removeRelocatedPodsDir(relocated);
    removed.push(relocated);
  }
  return removed;
}
