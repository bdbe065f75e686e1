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
  /** A ConfigMap or Secret of the pod's namespace (configMap, secret and projected volumes). */
  object?(kind: 'ConfigMap' | 'Secret', namespace: string, name: string): KubeObject | undefined;
}

interface KeyToPath {
  key: string;
  path: string;
}

interface PodVolume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  emptyDir?: unknown;
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { secretName: string; items?: KeyToPath[]; optional?: boolean };
  projected?: {
    sources?: Array<{
      configMap?: { name: string; items?: KeyToPath[]; optional?: boolean };
      secret?: { name: string; items?: KeyToPath[]; optional?: boolean };
    }>;
  };
}

/** A file the kubelet writes into a volume before the container starts (configMap, secret, projected). */
export interface VolumeFile {
  path: string;
  content: Buffer;
}

interface VolumeMountSpec {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}

/**
 * The files of a ConfigMap or Secret source: every key, or the `items` listed; undefined when the
 * object is missing and not optional (MountVolume.SetUp fails: `configmap "x" not found`).
 */
function sourceFiles(
  kind: 'ConfigMap' | 'Secret',
  ns: string,
  source: { name: string; items?: KeyToPath[]; optional?: boolean },
  lookup: VolumeLookup,
): Array<[string, Buffer]> | { error: string } {
  const obj = lookup.object?.(kind, ns, source.name);
  if (!obj) {
    if (source.optional) return [];
    return { error: `${kind.toLowerCase()} "${source.name}" not found` };
  }
  const data = new Map<string, Buffer>();
  if (kind === 'ConfigMap') {
    for (const [k, v] of Object.entries((obj['data'] as Record<string, string>) ?? {}))
      data.set(k, Buffer.from(v));
    for (const [k, v] of Object.entries((obj['binaryData'] as Record<string, string>) ?? {}))
      data.set(k, Buffer.from(v, 'base64'));
  } else {
    for (const [k, v] of Object.entries((obj['data'] as Record<string, string>) ?? {}))
      data.set(k, Buffer.from(v, 'base64'));
    for (const [k, v] of Object.entries((obj['stringData'] as Record<string, string>) ?? {}))
      data.set(k, Buffer.from(v));
  }
  if (!source.items) return [...data];
  const out: Array<[string, Buffer]> = [];
  for (const item of source.items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (source.optional) continue;
      return { error: `configmap references non-existent config key: ${item.key}` };
    }
    out.push([item.path, v]);
  }
  return out;
}

/**
 * Twin simplification: configMap, secret and projected volumes are written when a container starts;
 * later changes of the ConfigMap or Secret do not reach a running container (the kubelet syncs them
 * within about a minute), and defaultMode and ownership are not applied.
 */
function volumeFiles(
  pod: KubeObject,
  volume: PodVolume,
  lookup: VolumeLookup,
): Array<[string, Buffer]> | { error: string } | undefined {
  const ns = pod.metadata.namespace ?? 'default';
  const setUp = (error: string) => ({
    error: `MountVolume.SetUp failed for volume "${volume.name}" : ${error}`,
  });
  const parts: Array<['ConfigMap' | 'Secret', { name: string; items?: KeyToPath[]; optional?: boolean }]> =
    [];
  if (volume.configMap) parts.push(['ConfigMap', volume.configMap]);
  else if (volume.secret) parts.push(['Secret', { ...volume.secret, name: volume.secret.secretName }]);
  else if (volume.projected) {
    for (const s of volume.projected.sources ?? []) {
      if (s.configMap) parts.push(['ConfigMap', s.configMap]);
      else if (s.secret) parts.push(['Secret', s.secret]);
    }
  } else return undefined;
  const files: Array<[string, Buffer]> = [];
  for (const [kind, source] of parts) {
    const r = sourceFiles(kind, ns, source, lookup);
    if ('error' in r) return setUp(r.error);
    files.push(...r);
  }
  return files;
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
  if (volume.configMap) return path.join(dirs.podVolumesDir, 'configmap', volume.name);
  if (volume.secret) return path.join(dirs.podVolumesDir, 'secret', volume.name);
  if (volume.projected) return path.join(dirs.podVolumesDir, 'projected', volume.name);
  // Twin simplification: hostPath and the other volume sources are not mounted.
  return undefined;
}

/**
 * Twin simplification: there is no attach/detach; a ReadWriteOnce volume is usable at once on another node of its zone (no Multi-Attach error while the old node still holds it).
 * The mounts of a live container: each volumeMount of a PersistentVolumeClaim, emptyDir, configMap,
 * secret or projected volume, with its subPath, mapped to the volume's directory on this machine, and
 * the files to write into configMap, secret and projected volumes; or the FailedMount message while a
 * claim is missing or not bound, or a ConfigMap or Secret is missing (the kubelet keeps the pod in
 * ContainerCreating).
 */
export function containerMounts(
  pod: KubeObject,
  container: { volumeMounts?: VolumeMountSpec[] },
  dirs: VolumeDirs,
  lookup: VolumeLookup,
): { mounts: ContainerMount[]; files: VolumeFile[] } | { failedMount: string } {
  const volumes = new Map(((pod.spec?.volumes ?? []) as PodVolume[]).map((v) => [v.name, v]));
  const mounts: ContainerMount[] = [];
  const files: VolumeFile[] = [];
  const failed: string[] = [];
  const errors: string[] = [];
  for (const m of container.volumeMounts ?? []) {
    const volume = volumes.get(m.name);
    if (!volume) continue;
    const dir = volumeDir(pod, volume, dirs, lookup);
    if (dir === undefined) continue;
    const content = typeof dir === 'string' ? volumeFiles(pod, volume, lookup) : undefined;
    const problem = typeof dir !== 'string' ? dir : content && 'error' in content ? content : undefined;
    if (problem) {
      if (!failed.includes(m.name)) {
        failed.push(m.name);
        errors.push(problem.error);
      }
      continue;
    }
    if (content && !('error' in content))
      for (const [rel, data] of content)
        files.push({ path: path.join(dir as string, path.normalize(`/${rel}`)), content: data });
    // configMap, secret and projected volumes are always read-only.
    const readOnly = Boolean(m.readOnly || volume.persistentVolumeClaim?.readOnly || content);
    mounts.push({
      mountPath: m.mountPath,
      path: m.subPath ? path.join(dir as string, m.subPath) : (dir as string),
      ...(readOnly ? { readOnly } : {}),
    });
  }
  if (failed.length > 0)
    return {
      failedMount: `Unable to attach or mount volumes: unmounted volumes=[${failed.join(' ')}], unattached volumes=[], failed to process volumes=[${failed.join(' ')}]: ${errors.join(', ')}`,
    };
  return { mounts, files };
}
