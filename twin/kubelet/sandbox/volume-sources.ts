import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { KubeObject, ObjectRef } from '../../../kube/object.ts';
import { ContainerConfigError } from '../container-environment.ts';

/** One bind mount of a container: a directory or file on this machine at a path in the container. */
export interface VolumeMount {
  source: string;
  target: string;
  readOnly: boolean;
  /** The source is a file (a subPath of a file), mounted over a file. */
  file: boolean;
}

interface Store {
  get(ref: ObjectRef): KubeObject | undefined;
}

export interface VolumeContext {
  pod: KubeObject;
  store: Store;
  /** The pod's directory (<podsDir>/<namespace>_<pod>), which outlives the pod. */
  podDir: string;
  /** Every pod's directory's parent. */
  podsDir: string;
}

/**
 * Where a PersistentVolumeClaim's data lives on this machine: one directory per claim, so the pod that
 * mounts the claim again (a StatefulSet pod recreated with the same name) finds its files, as with a
 * bound PersistentVolume.
 *
 * Twin simplification: a claim is its own directory; no PersistentVolume is bound and no StorageClass or provisioner is consulted (https://kubernetes.io/docs/concepts/storage/persistent-volumes/).
 */
export function claimDirectory(podsDir: string, namespace: string, claimName: string): string {
  return path.join(podsDir, 'persistent-volume-claims', `${namespace}_${claimName}`);
}

/**
 * The bind mounts of a container's volumeMounts, with their sources made ready as the kubelet's
 * volume plugins make them: emptyDir (a directory for the pod's lifetime, 0777), configMap, secret,
 * downwardAPI and projected (files written from the objects, read-only), hostPath (the machine's path)
 * and persistentVolumeClaim (claimDirectory). An object that is missing (and not optional) is a
 * ContainerConfigError, as the kubelet reports it.
 *
 * Twin simplification: ConfigMap, Secret, downwardAPI and projected files are written when the container starts and not updated while it runs; projected service account tokens are not written (https://kubernetes.io/docs/concepts/configuration/configmap/#mounted-configmaps-are-updated-automatically).
 */
export function volumeMounts(ctx: VolumeContext, container: any): VolumeMount[] {
  const volumes = new Map<string, any>(((ctx.pod.spec?.volumes ?? []) as any[]).map((v) => [v.name, v]));
  const uid = ctx.pod.metadata.uid ?? 'pod';
  const base = path.join(ctx.podDir, 'volumes');
  // emptyDir and the rendered files live as long as the pod (its uid); a recreated pod starts afresh.
  if (existsSync(base))
    for (const e of readdirSync(base))
      if (e !== uid) rmSync(path.join(base, e), { recursive: true, force: true });
  const prepared = new Map<string, { dir: string; readOnly: boolean }>();
  const out: VolumeMount[] = [];
  for (const m of (container.volumeMounts ?? []) as any[]) {
    const volume = volumes.get(m.name);
    if (!volume) throw new ContainerConfigError(`volumeMount ${m.name}: no volume of that name in the pod`);
    let source = prepared.get(m.name);
    if (!source) {
      source = prepareVolume(ctx, volume, path.join(base, uid, m.name));
      prepared.set(m.name, source);
    }
    let src = source.dir;
    if (m.subPath) {
      src = path.join(src, m.subPath);
      if (!existsSync(src)) mkdirSync(src, { recursive: true, mode: 0o777 });
    }
    out.push({
      source: src,
      target: path.posix.resolve('/', m.mountPath),
      readOnly: source.readOnly || m.readOnly === true,
      file: !statSync(src).isDirectory(),
    });
  }
  return out;
}

function prepareVolume(ctx: VolumeContext, volume: any, dir: string): { dir: string; readOnly: boolean } {
  const ns = ctx.pod.metadata.namespace ?? 'default';
  const fsGroup = ctx.pod.spec?.securityContext?.fsGroup as number | undefined;
  if (volume.emptyDir) {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
    }
    applyFsGroup(dir, fsGroup);
    return { dir, readOnly: false };
  }
  if (volume.persistentVolumeClaim) {
    const claim = volume.persistentVolumeClaim.claimName as string;
    const d = claimDirectory(ctx.podsDir, ns, claim);
    if (!existsSync(d)) {
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o777);
    }
    applyFsGroup(d, fsGroup);
    return { dir: d, readOnly: volume.persistentVolumeClaim.readOnly === true };
  }
  if (volume.hostPath) {
    const p = volume.hostPath.path as string;
    if (!existsSync(p)) {
      if (volume.hostPath.type === 'DirectoryOrCreate') mkdirSync(p, { recursive: true, mode: 0o755 });
      else throw new ContainerConfigError(`hostPath type check failed: ${p} does not exist`);
    }
    return { dir: p, readOnly: false };
  }
  const files = new Map<string, { data: Buffer; mode: number }>();
  if (volume.configMap || volume.secret || volume.downwardAPI) addSource(ctx, ns, volume, files);
  else if (volume.projected) {
    for (const s of (volume.projected.sources ?? []) as any[])
      addSource(ctx, ns, { ...s, defaultMode: volume.projected.defaultMode }, files);
  } else {
    const kind = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
    throw new ContainerConfigError(
      `volume ${volume.name}: ${kind} volumes are not supported by the twin's kubelet`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const [rel, f] of files) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, f.data, { mode: f.mode });
    chmodSync(file, f.mode);
    if (fsGroup !== undefined) chownSync(file, 0, fsGroup);
  }
  return { dir, readOnly: true };
}

function addSource(
  ctx: VolumeContext,
  ns: string,
  source: any,
  files: Map<string, { data: Buffer; mode: number }>,
) {
  const defaultMode =
    (source.configMap ?? source.secret ?? source.downwardAPI)?.defaultMode ?? source.defaultMode ?? 0o644;
  if (source.configMap || source.secret) {
    const ref = source.configMap ?? source.secret;
    const kind = source.configMap ? 'ConfigMap' : 'Secret';
    const name = (ref.name ?? ref.secretName) as string;
    const obj = ctx.store.get({ kind, namespace: ns, name });
    if (!obj) {
      if (ref.optional) return;
      throw new ContainerConfigError(`${kind.toLowerCase()} "${name}" not found`);
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
    const items = ref.items as Array<{ key: string; path: string; mode?: number }> | undefined;
    if (items) {
      for (const item of items) {
        const v = data.get(item.key);
        if (v === undefined) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`configmap references non-existent config key: ${item.key}`);
        }
        files.set(item.path, { data: v, mode: item.mode ?? defaultMode });
      }
    } else for (const [k, v] of data) files.set(k, { data: v, mode: defaultMode });
    return;
  }
  if (source.downwardAPI) {
    for (const item of (source.downwardAPI.items ?? []) as any[]) {
      const value = item.fieldRef ? downwardField(ctx.pod, item.fieldRef.fieldPath) : '';
      files.set(item.path, { data: Buffer.from(value), mode: item.mode ?? defaultMode });
    }
    return;
  }
  // serviceAccountToken and clusterTrustBundle sources: no API credentials are projected here.
}

function downwardField(pod: KubeObject, fieldPath: string): string {
  const kv = (m: Record<string, string> | undefined) =>
    Object.entries(m ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n');
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return kv(pod.metadata.labels);
    case 'metadata.annotations':
      return kv(pod.metadata.annotations);
    default: {
      const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
      if (m) return (pod.metadata as any)[m[1]!]?.[m[2]!] ?? '';
      throw new ContainerConfigError(`unsupported downwardAPI fieldPath "${fieldPath}"`);
    }
  }
}

/** fsGroup: the volume's files belong to the group and are group-writable, directories setgid. */
function applyFsGroup(dir: string, fsGroup: number | undefined): void {
  if (fsGroup === undefined) return;
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
