import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TwinError } from '../../../core/errors.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { DEFAULT_PATH, type ImageConfig } from '../../../system/dockerfile.ts';
import type { ContainerMount } from '../../data/container-paths.ts';
import { ContainerConfigError, expand } from '../container-environment.ts';
import { containerStartScript } from './container-start-script.ts';
import { missingPackages } from './debian-packages.ts';
import { imageLayer } from './image-layer.ts';
import { nativeHelpers } from './native-helpers.ts';
import { podHostname, podHostsFile, podResolvConf } from './pod-etc-files.ts';
import { sandboxUnavailable } from './sandbox-requirements.ts';

/** Where the preload and the pod's address are in every live container's root filesystem. */
export const PRELOAD_IN_CONTAINER = '/usr/lib/twin/pod-address-preload.so';
export const POD_IP_IN_CONTAINER = '/usr/lib/twin/pod-ip';

export interface SandboxRequest {
  image: ImageConfig;
  pod: KubeObject;
  podIp: string;
  container: any;
  /** The container's environment as the kubelet builds it from the pod spec (without the image's ENV). */
  env: Record<string, string>;
  /** The container's volume mounts (twin/kubelet/volume-mounts.ts), their directories ready. */
  mounts: ContainerMount[];
  /** The pod's own directory (this pod's uid): its /etc files. */
  podDir: string;
  /** This container's directory: its writable layer, new for each start of the container. */
  containerDir: string;
  /** Caches of compiled helpers and image layers (.twin/sandbox). */
  cacheDir: string;
  /** The cluster DNS server (kube-dns) for resolv.conf. */
  nameserver: string | undefined;
}

export interface SandboxedContainer {
  /** The launcher and its start script, run as the container's main process. */
  argv: string[];
  env: Record<string, string>;
  stopSignal: NodeJS.Signals;
}

/**
 * A container of an image bound by its Dockerfile, ready to start as a container runtime starts it:
 * the command (the container's command, else the image's ENTRYPOINT) and arguments (the container's
 * args, else — when the container sets no command — the image's CMD), the image's ENV under the
 * container's env, the image's WORKDIR and USER unless the container's workingDir and securityContext
 * say otherwise, a fresh writable layer over the image's layer, the pod's volumes, /etc/hosts and
 * /etc/resolv.conf. Nothing is added to the command, its arguments or the image's configuration; the
 * only additions are the pod's address (the preload, see pod-address-preload.c) and the namespaces.
 *
 * Throws TwinError TWIN_BINARY_NOT_FOUND when the machine lacks the image's packages or a compiler,
 * ContainerConfigError for what the kubelet reports as CreateContainerConfigError.
 *
 * Twin simplification: no cgroups (resource limits are not enforced), no seccomp profile and no dropped capabilities; the sandbox needs root (https://kubernetes.io/docs/concepts/security/linux-kernel-security-constraints/).
 */
export async function prepareSandboxedContainer(r: SandboxRequest): Promise<SandboxedContainer> {
  const unavailable = sandboxUnavailable();
  if (unavailable) throw new TwinError('TWIN_BINARY_NOT_FOUND', unavailable);
  const missing = missingPackages(r.image.packages);
  if (missing.length)
    throw new TwinError(
      'TWIN_BINARY_NOT_FOUND',
      `the image ${path.relative(process.cwd(), r.image.dockerfile)} needs the Debian packages ${missing.join(', ')}, which this machine does not have: apt-get install -y ${missing.join(' ')}`,
    );
  const spec = r.container;
  const env: Record<string, string> = { PATH: DEFAULT_PATH, ...r.image.env, ...r.env };
  // $(VAR) expands from the container's env as the pod spec gives it; the kubelet does not know the image's ENV.
  const command: string[] = spec.command
    ? spec.command.map((a: string) => expand(a, r.env))
    : (r.image.entrypoint ?? []);
  const args: string[] = spec.args
    ? spec.args.map((a: string) => expand(a, r.env))
    : spec.command
      ? []
      : (r.image.cmd ?? []);
  const argv = [...command, ...args];
  if (argv.length === 0) throw new ContainerConfigError('no command specified');
  const user = userspec(r.image, r.pod, spec);
  const hostname = podHostname(r.pod);
  env['HOSTNAME'] = hostname;
  env['HOME'] ??= homeOf(user.uid);

  const [helpers, layer] = await Promise.all([nativeHelpers(r.cacheDir), imageLayer(r.image, r.cacheDir)]);
  const volumes = r.mounts.map((m) => ({
    source: m.path,
    target: path.posix.resolve('/', m.mountPath),
    readOnly: m.readOnly === true,
    file: existsSync(m.path) && !statSync(m.path).isDirectory(),
  }));

  const etcDir = path.join(r.podDir, 'etc');
  mkdirSync(etcDir, { recursive: true });
  const etc = {
    hosts: path.join(etcDir, 'hosts'),
    resolvConf: path.join(etcDir, 'resolv.conf'),
    hostname: path.join(etcDir, 'hostname'),
  };
  writeFileSync(etc.hosts, podHostsFile(r.pod, r.podIp));
  writeFileSync(etc.resolvConf, podResolvConf(r.pod, r.nameserver));
  writeFileSync(etc.hostname, `${hostname}\n`);
  for (const f of Object.values(etc)) chmodSync(f, 0o644);

  // Each start is a new container: a fresh writable layer.
  const dir = r.containerDir;
  rmSync(dir, { recursive: true, force: true });
  const d = {
    upper: path.join(dir, 'upper'),
    work: path.join(dir, 'work'),
    merged: path.join(dir, 'merged'),
    tmp: path.join(dir, 'tmp'),
  };
  for (const x of Object.values(d)) mkdirSync(x, { recursive: true });
  chmodSync(d.tmp, 0o1777);
  const lib = path.join(d.upper, path.dirname(PRELOAD_IN_CONTAINER));
  mkdirSync(lib, { recursive: true, mode: 0o755 });
  copyFileSync(helpers.preload, path.join(d.upper, PRELOAD_IN_CONTAINER));
  chmodSync(path.join(d.upper, PRELOAD_IN_CONTAINER), 0o644);
  writeFileSync(path.join(d.upper, POD_IP_IN_CONTAINER), `${r.podIp}\n`, { mode: 0o644 });
  mkdirSync(path.join(d.upper, 'etc'), { recursive: true, mode: 0o755 });
  writeFileSync(path.join(d.upper, 'etc', 'ld.so.preload'), `${PRELOAD_IN_CONTAINER}\n`, { mode: 0o644 });

  const script = path.join(dir, 'start.sh');
  writeFileSync(
    script,
    containerStartScript({
      layer,
      ...d,
      etc,
      volumes,
      hostname,
      userspec: user.spec,
      groups: user.groups,
      workingDir: spec.workingDir || r.image.workingDir,
      argv,
    }),
  );
  return {
    argv: [helpers.launcher, script],
    env,
    stopSignal: (r.image.stopSignal?.startsWith('SIG')
      ? r.image.stopSignal
      : `SIG${r.image.stopSignal ?? 'TERM'}`) as NodeJS.Signals,
  };
}

interface ResolvedUser {
  /** chroot --userspec */
  spec: string;
  /** The numeric uid where known (undefined for a name the image resolves). */
  uid: number | undefined;
  groups: number[];
}

/**
 * The container's user as the runtime picks it: securityContext.runAsUser/runAsGroup (container over
 * pod), else the image's USER, else root; supplementalGroups and fsGroup as extra groups;
 * runAsNonRoot refused with the kubelet's messages.
 */
export function userspec(image: Pick<ImageConfig, 'user'>, pod: KubeObject, container: any): ResolvedUser {
  const podSc = pod.spec?.securityContext ?? {};
  const sc = { ...podSc, ...(container.securityContext ?? {}) };
  const groups = [
    ...((podSc.supplementalGroups as number[]) ?? []),
    ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : []),
  ];
  const podRef = `pod: "${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid ?? ''})", container: ${container.name}`;
  let uid: number | undefined;
  let spec: string;
  if (sc.runAsUser !== undefined) {
    uid = Number(sc.runAsUser);
    spec = `${uid}:${sc.runAsGroup ?? primaryGid(uid)}`;
  } else {
    const [u = '0', g] = (image.user ?? '0').split(':');
    if (/^\d+$/.test(u)) {
      uid = Number(u);
      spec = `${uid}:${sc.runAsGroup ?? g ?? primaryGid(uid)}`;
    } else {
      if (sc.runAsNonRoot)
        throw new ContainerConfigError(
          `container has runAsNonRoot and image has non-numeric user (${u}), cannot verify user is non-root (${podRef})`,
        );
      spec = g !== undefined ? `${u}:${g}` : u;
    }
  }
  if (sc.runAsNonRoot && uid === 0)
    throw new ContainerConfigError(`container has runAsNonRoot and image will run as root (${podRef})`);
  return { spec, uid, groups };
}

function passwdEntry(uid: number): string[] | undefined {
  try {
    return execFileSync('getent', ['passwd', String(uid)], { encoding: 'utf8' })
      .trim()
      .split(':');
  } catch {
    return undefined;
  }
}

function primaryGid(uid: number): number {
  return Number(passwdEntry(uid)?.[3] ?? 0);
}

function homeOf(uid: number | undefined): string {
  if (uid === undefined || uid === 0) return '/root';
  return passwdEntry(uid)?.[5] || '/';
}
