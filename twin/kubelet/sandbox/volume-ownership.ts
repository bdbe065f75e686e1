import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ContainerMount } from '../../data/container-paths.ts';

/**
 * What the kubelet's volume plugins leave for a container whose user is not root: an emptyDir is
 * created world-writable (0777), and with the pod's `securityContext.fsGroup` every writable volume
 * (emptyDir, PersistentVolume) belongs to that group, group-writable, directories setgid
 * (SetVolumeOwnership). A PersistentVolume's directory is otherwise as its provisioner made it
 * (root's, 0755, as a new filesystem's root): a non-root image cannot write to it without fsGroup,
 * as on a cluster. https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
 */
export function prepareVolumeOwnership(
  mounts: ContainerMount[],
  emptyDirRoot: string,
  fsGroup: number | undefined,
): void {
  for (const m of mounts) {
    const emptyDir = m.path === emptyDirRoot || m.path.startsWith(`${emptyDirRoot}${path.sep}`);
    if (!existsSync(m.path)) {
      mkdirSync(m.path, { recursive: true });
      if (emptyDir) chmodSync(m.path, 0o777);
    }
    if (fsGroup !== undefined && !m.readOnly) applyFsGroup(m.path, fsGroup);
  }
}

function applyFsGroup(dir: string, fsGroup: number): void {
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    chownSync(p, st.uid, fsGroup);
    if (st.isDirectory()) {
      chmodSync(p, (st.mode & 0o7777) | 0o2070);
      for (const e of readdirSync(p)) walk(path.join(p, e));
    } else chmodSync(p, (st.mode & 0o7777) | 0o060);
  };
  if (statSync(dir).isDirectory()) walk(dir);
}
