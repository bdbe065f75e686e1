import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeObject, type KubeObject } from '../../kube/object.ts';
import type { Controller, ControllerContext } from '../controllers/controller.ts';
import type { KubeletOptions } from './kubelet-options.ts';
import { type ContainerLog, PodWorker } from './pod-worker.ts';

const ORPHAN_GUARD = fileURLToPath(new URL('./orphan-guard.mjs', import.meta.url));

/**
 * The kubelet of every twin node: it runs the pods bound to nodes. Containers whose image has a twin
 * binding run live as child processes; all others are emulated through the pod lifecycle.
 *
 * Twin simplification: one kubelet serves all nodes; deletion is immediate (the store has no
 * graceful-deletion period: a pod held by finalizers is stopped when it gets its deletionTimestamp),
 * and the processes get SIGTERM then SIGKILL after a short real-time grace.
 */
export class Kubelet implements Controller {
  readonly name = 'kubelet';
  private ctx!: ControllerContext;
  private readonly workers = new Map<string, PodWorker>();
  /** Pods (namespace/name) whose containers are still stopping after the pod object was deleted. */
  private readonly terminating = new Map<string, Promise<void>>();
  /** Pods deleted while their node is partitioned: settled once the healed node's kubelet stopped them. */
  private readonly awaitingStop = new Map<string, (stopped: Promise<void>) => void>();
  /** Nodes that are off (their pods' processes were killed) or partitioned (their processes are frozen). */
  private readonly downNodes = new Map<string, 'stopped' | 'partitioned'>();
  /** Pods whose node is off: their addresses stay taken until the pod object is gone. */
  private readonly lostWithNode = new Map<string, PodWorker>();
  /** Per partitioned node: a detached shell that resumes the frozen processes if this process dies, so their orphan guards can end them. */
  private readonly thawGuards = new Map<string, ChildProcess>();
  private unwatch: (() => void) | undefined;

  constructor(private readonly options: KubeletOptions) {}

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    mkdirSync(this.options.podsDir, { recursive: true, mode: 0o711 });
    this.unwatch = ctx.store.watch({ kind: 'Pod' }, (e) => {
      const uid = e.object.metadata.uid!;
      if (e.type === 'DELETED') {
        const lost = this.lostWithNode.get(uid);
        lost?.releaseIp();
        lost?.removePodDir();
        this.lostWithNode.delete(uid);
        // A partitioned node's kubelet does not hear of the deletion until the partition heals; the
        // pod's containers run (frozen) until then.
        const frozen = this.workers.get(uid);
        if (frozen && this.downNodes.get(frozen.nodeName) === 'partitioned') {
          const key = `${frozen.namespace}/${frozen.podName}`;
          if (!this.awaitingStop.has(uid))
            this.terminating.set(key, new Promise<void>((resolve) => this.awaitingStop.set(uid, resolve)));
          return;
        }
        this.stopWorker(uid);
        return;
      }
      // Deletion held by finalizers: the kubelet stops the containers; the object stays until they are removed.
      if (e.object.metadata.deletionTimestamp) {
        if (this.downNodes.get(this.workers.get(uid)?.nodeName ?? '') !== 'partitioned') this.stopWorker(uid);
        return;
      }
      if (
        e.object.spec?.nodeName &&
        !this.workers.has(uid) &&
        !this.downNodes.has(e.object.spec.nodeName) &&
        !isTerminal(e.object)
      )
        this.startWorker(e.object);
    });
    for (const pod of ctx.store.list({ kind: 'Pod' })) {
      if (pod.spec?.nodeName && !this.downNodes.has(pod.spec.nodeName) && !isTerminal(pod))
        this.startWorker(pod);
    }
  }

  stop(): void {
    this.unwatch?.();
  }

  /** Stops every pod's containers (SIGTERM, then SIGKILL) and waits for them. */
  async shutdown(graceMs = 2000): Promise<void> {
    this.unwatch?.();
    await Promise.all(
      [...this.workers.values()].map((w) => w.stop(graceMs).then(() => w.removeSecretVolumes())),
    );
    for (const node of [...this.thawGuards.keys()]) this.endThawGuard(node);
    this.workers.clear();
    for (const w of this.lostWithNode.values()) {
      w.releaseIp();
      w.removeSecretVolumes();
    }
    this.lostWithNode.clear();
  }

  /**
   * The node lost power: its containers die at once (SIGKILL) and its kubelet reports nothing more,
   * so the API keeps the pods' last status until the node lifecycle controller acts.
   */
  async stopNode(name: string): Promise<void> {
    this.downNodes.set(name, 'stopped');
    const stopping: Promise<void>[] = [];
    for (const [uid, w] of this.workers) {
      if (w.nodeName !== name) continue;
      this.workers.delete(uid);
      this.lostWithNode.set(uid, w);
      stopping.push(w.stop(0, { releaseIp: false }));
    }
    await Promise.all(stopping);
  }

  /**
   * The node is cut off from the control plane and the network: its containers are frozen (SIGSTOP),
   * so nothing reaches them, and its kubelet reports nothing until the partition heals.
   * Twin simplification: frozen processes stand for running-but-unreachable ones (pods share the host's loopback, so no network namespace can cut one node off).
   */
  partitionNode(name: string): void {
    this.downNodes.set(name, 'partitioned');
    const pids: number[] = [];
    for (const w of this.workers.values()) {
      if (w.nodeName !== name) continue;
      w.freeze();
      pids.push(...w.livePids());
    }
    if (pids.length > 0) {
      const guard = spawn(
        '/bin/sh',
        [
          '-c',
          `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; for g in ${pids.join(' ')}; do kill -CONT -$g 2>/dev/null; done`,
        ],
        { detached: true, stdio: 'ignore' },
      );
      guard.on('error', () => {});
      guard.unref();
      this.thawGuards.set(name, guard);
    }
  }

  private endThawGuard(name: string): void {
    const guard = this.thawGuards.get(name);
    this.thawGuards.delete(name);
    if (guard?.pid && guard.exitCode === null) {
      try {
        guard.kill('SIGKILL');
      } catch {}
    }
  }

  /**
   * The node is back (powered on, or the partition healed). A healed node's kubelet kills the
   * containers of pods deleted meanwhile and resumes the others; a restarted node starts the
   * containers of every pod still bound to it.
   */
  startNode(name: string): void {
    const was = this.downNodes.get(name);
    if (!was) return;
    this.downNodes.delete(name);
    this.endThawGuard(name);
    const existing = new Set(this.ctx.store.list({ kind: 'Pod' }).map((p) => p.metadata.uid));
    for (const [uid, w] of this.workers) {
      if (w.nodeName !== name) continue;
      if (existing.has(uid)) w.thaw();
      else this.stopWorker(uid);
    }
    for (const [uid, w] of this.lostWithNode) {
      if (w.nodeName !== name) continue;
      this.lostWithNode.delete(uid);
      w.releaseIp();
    }
    for (const pod of this.ctx.store.list({ kind: 'Pod' })) {
      if (pod.spec?.nodeName === name && !this.workers.has(pod.metadata.uid!) && !isTerminal(pod))
        this.startWorker(pod);
    }
  }

  /** Whether the node's kubelet is off or cut off. */
  nodeDown(name: string): 'stopped' | 'partitioned' | undefined {
    return this.downNodes.get(name);
  }

  /**
   * The process groups of a pod's running live containers (each container's main process leads its
   * group); undefined when the kubelet runs no live container for it (an emulated pod, or not here).
   */
  podProcessGroups(uid: string): number[] | undefined {
    const w = this.workers.get(uid);
    return w?.hasLiveContainers ? w.livePids() : undefined;
  }

  /** PIDs of every live process, for the harness's last-resort cleanup. */
  livePids(): number[] {
    return [...this.workers.values()].flatMap((w) => w.livePids());
  }

  logs(namespace: string, name: string, tailLines = 100): string {
    const dir = path.join(this.options.podsDir, `${namespace}_${name}`);
    const pod = this.ctx.store.get({ kind: 'Pod', namespace, name });
    const containers: string[] = (pod?.spec?.containers ?? []).map((c: any) => c.name);
    const out: string[] = [];
    for (const c of containers.length ? containers : ['main']) {
      try {
        const lines = readFileSync(path.join(dir, `${c}.log`), 'utf8').split('\n');
        out.push(...lines.slice(-tailLines - 1));
      } catch {}
    }
    return out.join('\n');
  }

  /** A container's log instances (for the API's pods/log); undefined when the pod runs on no kubelet or lacks the container. */
  containerLog(namespace: string, name: string, container: string): ContainerLog | undefined {
    for (const w of this.workers.values()) if (w.is(namespace, name)) return w.containerLog(container);
    for (const w of this.lostWithNode.values()) if (w.is(namespace, name)) return w.containerLog(container);
    return undefined;
  }

  private startWorker(pod: KubeObject): void {
    const node = this.ctx.store.get({ kind: 'Node', name: pod.spec.nodeName });
    if (!node) return;
    const worker = new PodWorker(pod, node, this.ctx, {
      ...this.options,
      logDir: path.join(this.options.podsDir, `${pod.metadata.namespace}_${pod.metadata.name}`),
      orphanGuard: ORPHAN_GUARD,
    });
    this.workers.set(pod.metadata.uid!, worker);
    // Twin simplification: a deleted pod's object is gone at once (no Terminating phase), so the
    // StatefulSet controller recreates a pod of the same name while the old one's containers still
    // stop; the new one's containers start once they have (a cluster creates the replacement only
    // then), so two of them never share the pod's volumes.
    // https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#deployment-and-scaling-guarantees
    const prior = this.terminating.get(podKey(pod));
    const begin = () =>
      worker
        .start()
        .catch((err) =>
          this.ctx.log(`kubelet: ${describeObject(pod)}: ${err instanceof Error ? err.stack : err}`),
        );
    if (prior) void prior.then(begin);
    else void begin();
  }

  /** The pod is gone: its containers are stopped, then its emptyDir volumes and container layers removed. */
  private stopWorker(uid: string): void {
    const worker = this.workers.get(uid);
    if (!worker) return;
    this.workers.delete(uid);
    const key = `${worker.namespace}/${worker.podName}`;
    const stopped = worker.stop(2000);
    void stopped.then(() => worker.removePodDir());
    const waiting = this.awaitingStop.get(uid);
    this.awaitingStop.delete(uid);
    waiting?.(stopped);
    const entry = (waiting && this.terminating.get(key)) || stopped;
    this.terminating.set(key, entry);
    void entry.finally(() => {
      if (this.terminating.get(key) === entry) this.terminating.delete(key);
    });
  }
}

function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}

function isTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}
