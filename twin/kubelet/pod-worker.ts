import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isTwinError } from '../../core/errors.ts';
import { describeObject, type KubeObject } from '../../kube/object.ts';
import type { ControllerContext } from '../controllers/controller.ts';
import type { ContainerMount } from '../data/container-paths.ts';
import { podGpuRequest } from '../gpu/gpu-allocator.ts';
import { clockEnvironment } from './clock-environment.ts';
import { ContainerConfigError, containerEnvironment, expand } from './container-environment.ts';
import { ContainerProcess } from './container-runner.ts';
import { emulatedLifecycleFor } from './emulated-lifecycle.ts';
import type { KubeletOptions } from './kubelet-options.ts';
import { memoryLimitBytes, watchMemoryLimit } from './memory-limit.ts';
import { PROBE_DEFAULTS, type ProbeSpec, runProbe } from './probe.ts';
import { prepareSandboxedContainer, type SandboxedContainer } from './sandbox/sandboxed-container.ts';
import { prepareVolumeOwnership } from './sandbox/volume-ownership.ts';
import { containerMounts, type VolumeDirs, type VolumeFile } from './volume-mounts.ts';

/** How often the kubelet retries mounting a pod's volumes (control-plane time). */
const MOUNT_RETRY_MS = 10_000;
/** Where in-cluster clients (client-go's rest.InClusterConfig, client-node) read the service account. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: string }
  | { kind: 'terminated'; exitCode: number; reason: string; startedAt?: string; finishedAt: string };

interface ContainerSlot {
  spec: any;
  live: boolean;
  state: ContainerState;
  lastState?: ContainerState;
  ready: boolean;
  started: boolean;
  restartCount: number;
  process?: ContainerProcess;
  /** The instance before the current one (what `kubectl logs --previous` shows). */
  previous?: ContainerProcess;
  cancel: Array<() => void>;
}

/** A container's log as the kubelet keeps it: its live instances (current last), or none for an emulated container. */
export interface ContainerLog {
  live: boolean;
  /** waiting reason while no instance has started. */
  waiting?: string;
  current?: ContainerProcess;
  previous?: ContainerProcess;
}

const MAX_BACKOFF_SECONDS = 300;
/** The most real time a live container's process is given to start before a failed probe restarts it. */
const LIVE_START_GRACE_MS = 5_000;

interface PodWorkerOptions extends KubeletOptions {
  logDir: string;
  orphanGuard: string;
}

/** Runs one pod on its node: containers, probes, restarts, and the pod's status. */
export class PodWorker {
  private readonly slots: ContainerSlot[];
  private stopped = false;
  /** The pod's node is partitioned: its processes are frozen and nothing about it is reported. */
  private suspended = false;
  private readonly ns: string;
  private podIP = '';
  /** GPU devices the device plugin granted the pod on its node. */
  private gpuDevices: string[] = [];
  private startTime = '';
  private readonly conditionTimes = new Map<string, { status: string; time: string }>();

  constructor(
    private pod: KubeObject,
    private readonly node: KubeObject,
    private readonly ctx: ControllerContext,
    private readonly options: PodWorkerOptions,
  ) {
    this.ns = pod.metadata.namespace ?? 'default';
    this.slots = (pod.spec?.containers ?? []).map((spec: any) => ({
      spec,
      live: options.bindings.resolve(spec.image) !== undefined,
      state: { kind: 'waiting', reason: 'ContainerCreating' } as ContainerState,
      ready: false,
      started: false,
      restartCount: 0,
      cancel: [],
    }));
  }

  is(namespace: string, name: string): boolean {
    return this.ns === namespace && this.pod.metadata.name === name;
  }

  /** The log of one container, undefined when the pod has no such container. */
  containerLog(name: string): ContainerLog | undefined {
    const slot = this.slots.find((s) => s.spec.name === name);
    if (!slot) return undefined;
    return {
      live: slot.live,
      ...(slot.state.kind === 'waiting' ? { waiting: slot.state.reason } : {}),
      ...(slot.process ? { current: slot.process } : {}),
      ...(slot.previous ? { previous: slot.previous } : {}),
    };
  }

  livePids(): number[] {
    return this.slots.flatMap((s) => (s.process?.running && s.process.pid ? [s.process.pid] : []));
  }

  /** Whether any of the pod's containers runs live (a bound image), rather than emulated. */
  get hasLiveContainers(): boolean {
    return this.slots.some((s) => s.live);
  }

  get namespace(): string {
    return this.ns;
  }

  get podName(): string {
    return this.pod.metadata.name;
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    // Emulated containers write nothing: only a pod with a live container gets a directory.
    if (this.slots.some((s) => s.live)) mkdirSync(this.options.logDir, { recursive: true, mode: 0o711 });
    this.podIP = this.pod.spec?.hostNetwork
      ? this.hostIP()
      : this.options.allocatePodIp(
          this.pod.metadata.uid!,
          this.slots.some((s) => s.live),
        );
    this.startTime = this.nowIso();
    this.pod =
      this.ctx.store.get({ kind: 'Pod', namespace: this.ns, name: this.pod.metadata.name }) ?? this.pod;
    this.pod.status = { ...this.pod.status, podIP: this.podIP };
    try {
      this.gpuDevices =
        this.options.gpus?.allocate(this.pod.metadata.uid!, this.node, podGpuRequest(this.pod)) ?? [];
    } catch (err) {
      for (const slot of this.slots)
        slot.state = { kind: 'waiting', reason: 'UnexpectedAdmissionError', message: (err as Error).message };
      this.writeStatus();
      return;
    }
    this.writeStatus();
    await this.startWhenMounted();
  }

  /** The pod's own directory, removed with the pod: its emptyDir volumes and its containers' writable layers. */
  get podUidDir(): string {
    return path.join(this.options.logDir, this.pod.metadata.uid!);
  }

  private get volumeDirs(): VolumeDirs {
    return { volumesDir: this.options.volumesDir, podVolumesDir: path.join(this.podUidDir, 'volumes') };
  }

  private readonly volumeLookup = {
    claim: (namespace: string, name: string) =>
      this.ctx.store.get({ kind: 'PersistentVolumeClaim', namespace, name }),
    volume: (name: string) => this.ctx.store.get({ kind: 'PersistentVolume', name }),
    object: (kind: 'ConfigMap' | 'Secret', namespace: string, name: string) =>
      this.ctx.store.get({ kind, namespace, name }),
  };

  private lastFailedMount: string | undefined;
  private readonly podTimers: Array<() => void> = [];

  /**
   * The volume manager: the containers start once every volume of the pod can be mounted; until then
   * the pod stays ContainerCreating with a FailedMount event, and the mount is retried.
   */
  private async startWhenMounted(): Promise<void> {
    if (this.stopped) return;
    const everyVolume = {
      volumeMounts: ((this.pod.spec?.volumes ?? []) as Array<{ name: string }>).map((v) => ({
        name: v.name,
        mountPath: `/${v.name}`,
      })),
    };
    const check = containerMounts(this.pod, everyVolume, this.volumeDirs, this.volumeLookup);
    if ('failedMount' in check) {
      if (this.lastFailedMount !== check.failedMount) {
        this.lastFailedMount = check.failedMount;
        this.ctx.events.record(this.pod, 'Warning', 'FailedMount', check.failedMount, 'kubelet');
      }
      this.slotsWaiting('ContainerCreating');
      this.podTimers.push(this.ctx.clock.after(MOUNT_RETRY_MS, () => void this.startWhenMounted()));
      return;
    }
    if (this.stopped) return;
    // Only live containers open connections; emulated ones need not wait for the network's rules.
    if (this.slots.some((s) => s.live)) await this.options.networkReady?.();
    await Promise.all(this.slots.map((slot) => this.startContainer(slot)));
  }

  /**
   * The service account's token, ca.crt and namespace at /var/run/secrets/kubernetes.io/serviceaccount,
   * where in-cluster clients look for them, unless the container mounts something there itself.
   * Twin simplification: the kube-api-access-* projected volume the ServiceAccount admission plugin adds
   * is not written into the pod spec; the kubelet mounts its files directly.
   */
  private mountServiceAccount(resolved: { mounts: ContainerMount[]; files: VolumeFile[] }): void {
    if (resolved.mounts.some((m) => path.posix.resolve('/', m.mountPath) === SERVICE_ACCOUNT_DIR)) return;
    const files = this.options.serviceAccountFiles?.(this.pod);
    if (!files) return;
    const dir = path.join(this.volumeDirs.podVolumesDir, 'kube-api-access');
    for (const [name, content] of Object.entries(files))
      resolved.files.push({ path: path.join(dir, name), content: Buffer.from(content) });
    resolved.mounts.push({ mountPath: SERVICE_ACCOUNT_DIR, path: dir, readOnly: true });
  }

  private slotsWaiting(reason: string): void {
    for (const slot of this.slots) slot.state = { kind: 'waiting', reason };
    this.writeStatus();
  }

  /**
   * Deletes the files of the pod's secret, projected and service-account volumes: a kubelet keeps them
   * on tmpfs, so they never outlive the pod's containers on disk (the twin's work directory is kept
   * with the reports).
   */
  removeSecretVolumes(): void {
    for (const dir of ['secret', 'projected', 'kube-api-access'])
      rmSync(path.join(this.volumeDirs.podVolumesDir, dir), { recursive: true, force: true });
  }

  /** Deletes the pod's emptyDir volumes and container layers (the pod is gone). */
  removePodDir(): void {
    rmSync(this.podUidDir, { recursive: true, force: true });
  }

  async stop(graceMs: number, options: { releaseIp?: boolean } = {}): Promise<void> {
    this.stopped = true;
    for (const c of this.podTimers.splice(0)) c();
    for (const slot of this.slots) for (const c of slot.cancel.splice(0)) c();
    for (const slot of this.slots) slot.process?.signalGroup('SIGCONT');
    await Promise.all(this.slots.map((s) => s.process?.stop(graceMs)));
    if (options.releaseIp !== false) this.releaseIp();
  }

  releaseIp(): void {
    this.options.gpus?.release(this.pod.metadata.uid!);
    if (!this.pod.spec?.hostNetwork) this.options.releasePodIp(this.pod.metadata.uid!);
  }

  get nodeName(): string {
    return this.node.metadata.name;
  }

  /** Node partitioned: the processes are frozen (SIGSTOP) and status is no longer posted. */
  freeze(): void {
    this.suspended = true;
    for (const slot of this.slots) slot.process?.signalGroup('SIGSTOP');
  }

  /** Partition healed: the processes continue and the kubelet posts the pod's status again. */
  thaw(): void {
    if (!this.suspended) return;
    this.suspended = false;
    for (const slot of this.slots) slot.process?.signalGroup('SIGCONT');
    this.writeStatus();
  }

  private hostIP(): string {
    return (this.node.status?.addresses ?? []).find((a: any) => a.type === 'InternalIP')?.address ?? '';
  }

  private nowIso(): string {
    return new Date(this.ctx.clock.now()).toISOString();
  }

  private get restartPolicy(): 'Always' | 'OnFailure' | 'Never' {
    return this.pod.spec?.restartPolicy ?? 'Always';
  }

  private async startContainer(slot: ContainerSlot): Promise<void> {
    if (this.stopped) return;
    if (slot.live) await this.startLive(slot);
    else this.startEmulated(slot);
  }

  private startEmulated(slot: ContainerSlot): void {
    // An emulated container's Secrets and ConfigMaps are checked as a runtime's would be: one that is
    // missing keeps it in CreateContainerConfigError, so the twin never reports it Ready.
    try {
      const current =
        this.ctx.store.get({ kind: 'Pod', namespace: this.ns, name: this.pod.metadata.name }) ?? this.pod;
      containerEnvironment(this.ctx.store, current, slot.spec);
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      slot.state = { kind: 'waiting', reason: 'CreateContainerConfigError', message: err.message };
      this.writeStatus();
      slot.cancel.push(this.ctx.clock.after(10_000, () => !this.stopped && this.startEmulated(slot)));
      return;
    }
    const lifecycle = emulatedLifecycleFor(this.pod.metadata.annotations);
    slot.cancel.push(
      this.ctx.clock.after(lifecycle.startSeconds * 1000, () => {
        if (this.stopped) return;
        slot.state = { kind: 'running', startedAt: this.nowIso() };
        slot.started = true;
        const readyDelay = (slot.spec.readinessProbe?.initialDelaySeconds ?? 0) * 1000;
        const becomeReady = () => {
          slot.ready = true;
          this.writeStatus();
        };
        if (readyDelay > 0) slot.cancel.push(this.ctx.clock.after(readyDelay, becomeReady));
        else slot.ready = true;
        if (this.restartPolicy !== 'Always') {
          slot.cancel.push(
            this.ctx.clock.after(lifecycle.runSeconds * 1000, () => {
              if (this.stopped) return;
              slot.ready = false;
              slot.state = {
                kind: 'terminated',
                exitCode: 0,
                reason: 'Completed',
                finishedAt: this.nowIso(),
              };
              this.writeStatus();
            }),
          );
        }
        this.writeStatus();
      }),
    );
  }

  private async startLive(slot: ContainerSlot): Promise<void> {
    const binding = this.options.bindings.resolve(slot.spec.image)!;
    let env: Record<string, string>;
    let current: KubeObject;
    try {
      current =
        this.ctx.store.get({ kind: 'Pod', namespace: this.ns, name: this.pod.metadata.name }) ?? this.pod;
      current.status = { ...current.status, podIP: this.podIP, hostIP: this.hostIP() };
      env = containerEnvironment(this.ctx.store, current, slot.spec);
      if (!binding.image) env = { ...binding.env, ...env };
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      this.configError(slot, err.message);
      return;
    }
    const logFile = path.join(this.options.logDir, `${slot.spec.name}.log`);
    if (binding.image) {
      const resolved = containerMounts(this.pod, slot.spec, this.volumeDirs, this.volumeLookup);
      if ('failedMount' in resolved) {
        slot.state = { kind: 'waiting', reason: 'ContainerCreating' };
        this.writeStatus();
        slot.cancel.push(this.ctx.clock.after(MOUNT_RETRY_MS, () => void this.startLive(slot)));
        return;
      }
      this.mountServiceAccount(resolved);
      let sandbox: SandboxedContainer;
      try {
        for (const file of resolved.files) {
          mkdirSync(path.dirname(file.path), { recursive: true });
          writeFileSync(file.path, file.content);
        }
        prepareVolumeOwnership(
          resolved.mounts,
          path.join(this.volumeDirs.podVolumesDir, 'empty-dir'),
          this.pod.spec?.securityContext?.fsGroup,
        );
        sandbox = await prepareSandboxedContainer({
          image: binding.image,
          pod: current,
          podIp: this.podIP,
          container: slot.spec,
          env,
          mounts: resolved.mounts,
          podDir: this.podUidDir,
          containerDir: path.join(this.podUidDir, 'containers', `${slot.spec.name}-${slot.restartCount}`),
          cacheDir: this.options.sandboxCacheDir ?? path.join(this.options.cwd, '.twin', 'sandbox'),
          nameserver: this.options.nameserver?.(),
        });
      } catch (err) {
        if (err instanceof ContainerConfigError) {
          this.configError(slot, err.message);
          return;
        }
        // The image cannot be had on this machine (packages, compiler, its layer): as an image that cannot be pulled.
        const message = isTwinError(err) ? err.message : String(err);
        try {
          appendFileSync(logFile, `twin: ${message}\n`);
        } catch {}
        slot.state = { kind: 'waiting', reason: 'ErrImagePull', message };
        this.ctx.events.record(
          this.pod,
          'Warning',
          'Failed',
          `Failed to pull image "${slot.spec.image}": ${message}`,
          'kubelet',
        );
        this.writeStatus();
        return;
      }
      if (this.stopped) return;
      await this.run(
        slot,
        new ContainerProcess({
          argv: sandbox.argv,
          now: () => this.ctx.clock.now(),
          env: sandbox.env,
          cwd: '/',
          logFile,
          stopSignal: sandbox.stopSignal,
          stopMainProcessOnly: true,
        }),
      );
      return;
    }
    const args: string[] = (slot.spec.args ?? []).map((a: string) => expand(a, env));
    let argv: string[];
    if (binding.entry) {
      let bundle: string;
      try {
        bundle = await this.options.bundler.bundle(binding.entry);
      } catch (err) {
        slot.state = {
          kind: 'waiting',
          reason: 'ErrImagePull',
          message: `bundling ${binding.entry} failed: ${(err as Error).message}`,
        };
        this.writeStatus();
        return;
      }
      const imports = [...this.options.nodeImports, this.options.orphanGuard].flatMap((m) => ['--import', m]);
      argv = [process.execPath, ...imports, bundle, ...args];
    } else {
      const command: string[] = slot.spec.command
        ? slot.spec.command.map((a: string) => expand(a, env))
        : binding.command!;
      argv = [...command, ...(slot.spec.command ? args : args.length ? args : [])];
    }
    if (this.stopped) return;
    const resolved = containerMounts(this.pod, slot.spec, this.volumeDirs, this.volumeLookup);
    if ('failedMount' in resolved) {
      slot.state = { kind: 'waiting', reason: 'ContainerCreating' };
      this.writeStatus();
      slot.cancel.push(this.ctx.clock.after(MOUNT_RETRY_MS, () => void this.startLive(slot)));
      return;
    }
    this.mountServiceAccount(resolved);
    // A container (re)started by the runtime gets a new, empty writable layer; its volumes stay.
    const rootfs = path.join(this.podUidDir, 'containers', `${slot.spec.name}-${slot.restartCount}`);
    for (const file of resolved.files) {
      mkdirSync(path.dirname(file.path), { recursive: true });
      writeFileSync(file.path, file.content);
    }
    for (const dir of [rootfs, ...resolved.mounts.map((m) => m.path)])
      if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    const proc = new ContainerProcess({
      argv,
      now: () => this.ctx.clock.now(),
      cwd: this.options.cwd,
      logFile,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: process.env['HOME'] ?? '/tmp',
        LANG: process.env['LANG'] ?? 'C.UTF-8',
        HOSTNAME: this.pod.spec?.hostname ?? this.pod.metadata.name,
        TWIN_DNS_FILE: this.options.dnsFile,
        TWIN_POD_NAMESPACE: this.ns,
        // Data services keep their files under the pod's directory and bind the pod's address.
        TWIN_POD_DIR: this.options.logDir,
        TWIN_CONTAINER_ROOT: rootfs,
        TWIN_VOLUME_MOUNTS: JSON.stringify(resolved.mounts),
        TWIN_POD_IP: this.podIP,
        TWIN_PARENT_PID: String(process.pid),
        ...clockEnvironment(this.ctx.clock),
        ...this.options.podEnv,
        ...this.networkEnv(env),
        ...(this.options.gpus?.environment(this.gpuDevices) ?? {}),
      },
    });
    await this.run(slot, proc);
  }

  private configError(slot: ContainerSlot, message: string): void {
    slot.state = { kind: 'waiting', reason: 'CreateContainerConfigError', message };
    this.writeStatus();
    slot.cancel.push(this.ctx.clock.after(10_000, () => void this.startLive(slot)));
  }

  /** Watches a started container: probes, its exit, and the restart policy's back-off. */
  private async run(slot: ContainerSlot, proc: ContainerProcess): Promise<void> {
    if (slot.process) slot.previous = slot.process;
    slot.process = proc;
    slot.state = { kind: 'running', startedAt: this.nowIso() };
    slot.ready = false;
    slot.started = !slot.spec.startupProbe;
    this.writeStatus();
    this.runProbes(slot, proc);
    const limit = memoryLimitBytes(slot.spec);
    const unwatch =
      limit !== undefined && proc.pid !== undefined
        ? watchMemoryLimit(proc.pid, limit, (used) => {
            this.ctx.log(
              `kubelet: ${describeObject(this.pod)} container ${slot.spec.name} OOMKilled: ${used} bytes resident over its ${limit}-byte limit`,
            );
            proc.killOutOfMemory();
          })
        : () => {};
    const { code, signal } = await proc.exited;
    unwatch();
    if (this.stopped || slot.process !== proc) return;
    for (const c of slot.cancel.splice(0)) c();
    const exitCode = proc.oomKilled ? 137 : (code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1));
    slot.lastState = slot.state;
    slot.state = {
      kind: 'terminated',
      exitCode,
      reason: proc.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
      startedAt: (slot.lastState as any).startedAt,
      finishedAt: this.nowIso(),
    };
    slot.ready = false;
    this.ctx.log(`kubelet: ${describeObject(this.pod)} container ${slot.spec.name} exited with ${exitCode}`);
    const restart = this.restartPolicy === 'Always' || (this.restartPolicy === 'OnFailure' && exitCode !== 0);
    if (!restart) {
      this.writeStatus();
      return;
    }
    const backoff = Math.min(10 * 2 ** slot.restartCount, MAX_BACKOFF_SECONDS);
    slot.restartCount++;
    slot.lastState = slot.state;
    slot.state = {
      kind: 'waiting',
      reason: 'CrashLoopBackOff',
      message: `back-off ${backoff}s restarting failed container=${slot.spec.name} pod=${this.pod.metadata.name}_${this.ns}(${this.pod.metadata.uid})`,
    };
    this.ctx.events.record(this.pod, 'Warning', 'BackOff', 'Back-off restarting failed container', 'kubelet');
    this.writeStatus();
    slot.cancel.push(this.ctx.clock.after(backoff * 1000, () => void this.startLive(slot)));
  }

  /** The container's environment with what makes it connect from the pod's address; its own LD_PRELOAD is kept. */
  private networkEnv(env: Record<string, string>): Record<string, string> {
    const net = this.options.podNetworkEnv?.(this.pod, this.podIP) ?? {};
    const out = { ...net, ...env };
    if (net['LD_PRELOAD'] && env['LD_PRELOAD'])
      out['LD_PRELOAD'] = `${net['LD_PRELOAD']}:${env['LD_PRELOAD']}`;
    return out;
  }

  /** Startup, readiness and liveness probes on the control-plane clock; each attempt runs in real time. */
  private runProbes(slot: ContainerSlot, proc: ContainerProcess): void {
    const startup: ProbeSpec | undefined = slot.spec.startupProbe;
    const readiness: ProbeSpec | undefined = slot.spec.readinessProbe;
    const liveness: ProbeSpec | undefined = slot.spec.livenessProbe;
    // Twin simplification: a live process starts in real time, which the scaled clock would multiply by
    // the time scale (at ×100 a 90 s liveness window is 0.9 s real). A probe failure restarts a live
    // container only once it has run, in real time, as long as the probe's window allows at ×1, capped
    // at LIVE_START_GRACE_MS; a process that never answers is still restarted.
    const startedAt = performance.now();
    let answered = false; // once the process has answered a probe, it has started: no grace after that
    const graceOver = (p: typeof PROBE_DEFAULTS) =>
      answered ||
      performance.now() - startedAt >=
        Math.min(LIVE_START_GRACE_MS, (p.initialDelaySeconds + p.periodSeconds * p.failureThreshold) * 1000);
    const loop = (
      probe: ProbeSpec,
      onResult: (ok: boolean, message: string, state: { successes: number; failures: number }) => unknown,
      gate?: () => boolean,
    ) => {
      const p = { ...PROBE_DEFAULTS, ...probe };
      const state = { successes: 0, failures: 0 };
      let active = true;
      slot.cancel.push(() => {
        active = false;
      });
      const tick = async () => {
        if (!active || this.stopped || !proc.running) return;
        if (!this.suspended && (!gate || gate())) {
          const r = await runProbe(probe, this.podIP, slot.spec, Math.max(p.timeoutSeconds * 1000, 1000));
          if (!active || this.stopped || !proc.running) return;
          if (!this.suspended) {
            if (r.ok) {
              answered = true;
              state.successes++;
              state.failures = 0;
            } else {
              state.failures++;
              state.successes = 0;
            }
            if (onResult(r.ok, r.message, state) === false) return;
          }
        }
        slot.cancel.push(
          this.ctx.clock.after(
            Math.max(p.periodSeconds * 1000, this.ctx.clock.toVirtual(25)),
            () => void tick(),
          ),
        );
      };
      slot.cancel.push(
        this.ctx.clock.after(
          Math.max(p.initialDelaySeconds * 1000, this.ctx.clock.toVirtual(20)),
          () => void tick(),
        ),
      );
    };
    if (startup) {
      loop(startup, (ok, message, s) => {
        const t = { ...PROBE_DEFAULTS, ...startup };
        if (ok && s.successes >= 1) {
          slot.started = true;
          if (!readiness) slot.ready = true;
          this.writeStatus();
          return false;
        }
        if (!ok && s.failures >= t.failureThreshold && graceOver(t)) {
          this.probeFailed(slot, proc, 'Startup', message);
          return false;
        }
      });
    }
    if (readiness) {
      loop(
        readiness,
        (ok, message, s) => {
          const t = { ...PROBE_DEFAULTS, ...readiness };
          const was = slot.ready;
          if (ok && s.successes >= t.successThreshold) slot.ready = true;
          if (!ok && s.failures >= t.failureThreshold) {
            slot.ready = false;
            if (was)
              this.ctx.events.record(
                this.pod,
                'Warning',
                'Unhealthy',
                `Readiness probe failed: ${message}`,
                'kubelet',
              );
          }
          if (was !== slot.ready) this.writeStatus();
        },
        () => slot.started,
      );
    } else if (!startup) {
      slot.ready = true;
      this.writeStatus();
    }
    if (liveness) {
      loop(
        liveness,
        (ok, message, s) => {
          const t = { ...PROBE_DEFAULTS, ...liveness };
          if (!ok && s.failures >= t.failureThreshold && graceOver(t)) {
            this.probeFailed(slot, proc, 'Liveness', message);
            return false;
          }
        },
        () => slot.started,
      );
    }
  }

  private probeFailed(slot: ContainerSlot, proc: ContainerProcess, kind: string, message: string): void {
    this.ctx.events.record(this.pod, 'Warning', 'Unhealthy', `${kind} probe failed: ${message}`, 'kubelet');
    this.ctx.events.record(
      this.pod,
      'Normal',
      'Killing',
      `Container ${slot.spec.name} failed ${kind.toLowerCase()} probe, will be restarted`,
      'kubelet',
    );
    void proc.stop(
      Math.min(2000, this.ctx.clock.toReal((this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000)),
    );
  }

  private writeStatus(): void {
    if (this.stopped || this.suspended) return;
    const allTerminated = this.slots.every((s) => s.state.kind === 'terminated');
    const anyFailed = this.slots.some((s) => s.state.kind === 'terminated' && s.state.exitCode !== 0);
    const everRan = this.slots.some((s) => s.state.kind !== 'waiting' || s.restartCount > 0);
    let phase = 'Pending';
    if (allTerminated) phase = anyFailed ? 'Failed' : 'Succeeded';
    else if (everRan && this.slots.every((s) => s.state.kind !== 'waiting' || s.restartCount > 0))
      phase = 'Running';
    const containersReady = this.slots.every((s) => s.ready);
    const conditions = [
      this.condition('PodReadyToStartContainers', 'True'),
      this.condition('Initialized', 'True'),
      this.condition(
        'Ready',
        containersReady ? 'True' : 'False',
        containersReady ? undefined : 'ContainersNotReady',
      ),
      this.condition(
        'ContainersReady',
        containersReady ? 'True' : 'False',
        containersReady ? undefined : 'ContainersNotReady',
      ),
    ];
    const containerStatuses = this.slots.map((s) => ({
      name: s.spec.name,
      image: s.spec.image,
      imageID: '',
      containerID: s.process?.pid ? `twin://${s.process.pid}` : s.live ? undefined : 'twin://emulated',
      ready: s.ready,
      started: s.state.kind === 'running' && s.started,
      restartCount: s.restartCount,
      state: toApiState(s.state),
      lastState: s.lastState ? toApiState(s.lastState) : {},
    }));
    this.ctx.store.patch({ kind: 'Pod', namespace: this.ns, name: this.pod.metadata.name }, (pod) => {
      if (pod.metadata.uid !== this.pod.metadata.uid) return;
      const scheduled = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
      pod.status = {
        ...pod.status,
        phase,
        hostIP: this.hostIP(),
        hostIPs: [{ ip: this.hostIP() }],
        podIP: this.podIP,
        podIPs: [{ ip: this.podIP }],
        startTime: this.startTime,
        qosClass: qosClass(this.pod),
        conditions: [...(scheduled ? [scheduled] : []), ...conditions],
        containerStatuses,
      };
    });
  }

  private condition(type: string, status: string, reason?: string): Record<string, unknown> {
    const prev = this.conditionTimes.get(type);
    const time = prev && prev.status === status ? prev.time : this.nowIso();
    this.conditionTimes.set(type, { status, time });
    return { type, status, lastProbeTime: null, lastTransitionTime: time, ...(reason ? { reason } : {}) };
  }
}

function toApiState(state: ContainerState): Record<string, unknown> {
  switch (state.kind) {
    case 'waiting':
      return { waiting: { reason: state.reason, ...(state.message ? { message: state.message } : {}) } };
    case 'running':
      return { running: { startedAt: state.startedAt } };
    case 'terminated':
      return {
        terminated: {
          exitCode: state.exitCode,
          reason: state.reason,
          startedAt: state.startedAt,
          finishedAt: state.finishedAt,
        },
      };
  }
}

function qosClass(pod: KubeObject): string {
  const containers: any[] = pod.spec?.containers ?? [];
  const hasAny = containers.some((c) => c.resources?.requests || c.resources?.limits);
  if (!hasAny) return 'BestEffort';
  const guaranteed = containers.every(
    (c) =>
      c.resources?.limits?.cpu &&
      c.resources?.limits?.memory &&
      (!c.resources?.requests ||
        (c.resources.requests.cpu === c.resources.limits.cpu &&
          c.resources.requests.memory === c.resources.limits.memory)),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
