import path from 'node:path';
import type { KubeObject } from '../../kube/object.ts';
import type { ContainerMount } from '../data/container-paths.ts';
import { isClaimBound } from '../storage/pod-claims.ts';

export interface VolumeDirs {
  /** Every PersistentVolume's data: `<volumesDir>/<pv name>`, kept as long as the volume exists. */
  volumesDir: string;
  /** The pod's own volumes (emptyDir), removed with the pod: `<podVolumesDir>/empty-dir/<name>`. */
  podVolumesDir: string;
}

export interface VolumeLookup {
  claim(namespace: string, name: string): KubeObject | undefined;
  volume(name: string): KubeObject | undefined;
}

interface PodVolume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  emptyDir?: unknown;
}

interface VolumeMountSpec {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}

/** Why a pod volume cannot be mounted yet (the volume manager's desired-state populator), or its directory. */
function volumeDir(
  pod: KubeObject,
  volume: PodVolume,
  dirs: VolumeDirs,
  lookup: VolumeLookup,
): string | { error: string } | undefined {
  const ns = pod.metadata.namespace ?? 'default';
  if (volume.persistentVolumeClaim) {
    const claimName = volume.persistentVolumeClaim.claimName;
    const claim = lookup.claim(ns, claimName);
    const prefix = `error processing PVC ${ns}/${claimName}`;
    if (!claim)
      return {
        error: `${prefix}: failed to fetch PVC from API server: persistentvolumeclaims "${claimName}" not found`,
      };
    if (!isClaimBound(claim)) return { error: `${prefix}: PVC is not bound` };
    const pvName: string = claim.spec.volumeName;
    if (!lookup.volume(pvName))
      return {
        error: `${prefix}: failed to fetch PV ${pvName} from API server: persistentvolumes "${pvName}" not found`,
      };
    return path.join(dirs.volumesDir, pvName);
  }
  if (volume.emptyDir !== undefined) return path.join(dirs.podVolumesDir, 'empty-dir', volume.name);
  // Twin simplification: configMap, secret, projected, hostPath and other volume sources are not mounted.
  return undefined;
}

/**
 * Twin simplification: there is no attach/detach; a ReadWriteOnce volume is usable at once on another node of its zone (no Multi-Attach error while the old node still holds it).
 * The mounts of a live container: each volumeMount of a PersistentVolumeClaim or emptyDir volume, with
 * its subPath, mapped to the volume's directory on this machine; or the FailedMount message while a
 * claim is missing or not bound (the kubelet keeps the pod in ContainerCreating).
 */
export function containerMounts(
  pod: KubeObject,
  container: { volumeMounts?: VolumeMountSpec[] },
  dirs: VolumeDirs,
  lookup: VolumeLookup,
): { mounts: ContainerMount[] } | { failedMount: string } {
  const volumes = new Map(((pod.spec?.volumes ?? []) as PodVolume[]).map((v) => [v.name, v]));
  const mounts: ContainerMount[] = [];
  const failed: string[] = [];
  const errors: string[] = [];
  for (const m of container.volumeMounts ?? []) {
    const volume = volumes.get(m.name);
    if (!volume) continue;
    const dir = volumeDir(pod, volume, dirs, lookup);
    if (dir === undefined) continue;
    if (typeof dir !== 'string') {
      if (!failed.includes(m.name)) {
        failed.push(m.name);
        errors.push(dir.error);
      }
      continue;
    }
    const readOnly = Boolean(m.readOnly || volume.persistentVolumeClaim?.readOnly);
    mounts.push({
      mountPath: m.mountPath,
      path: m.subPath ? path.join(dir, m.subPath) : dir,
      ...(readOnly ? { readOnly } : {}),
    });
  }
  if (failed.length > 0)
    return {
      failedMount: `Unable to attach or mount volumes: unmounted volumes=[${failed.join(' ')}], unattached volumes=[], failed to process volumes=[${failed.join(' ')}]: ${errors.join(', ')}`,
    };
  return { mounts };
}
