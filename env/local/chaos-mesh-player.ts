import { TwinError } from '../../core/errors.ts';
import {
  type ChaosMode,
  type ChaosSelector,
  chaosDurationMs,
  describeChaos,
  isChaosObject,
  matchChaosSelector,
  pickByMode,
} from '../../kube/chaos-mesh.ts';
import { parseGoDuration } from '../../kube/duration.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { TrafficFaultRule } from '../../twin/network/traffic-faults.ts';
import type { Twin } from '../../twin/twin.ts';
import type { ChaosInjection } from '../environment.ts';

/** What the player needs from the environment around it. */
export interface ChaosPlayerContext {
  twin: Twin;
  killPod(ref: { namespace: string; name: string }): Promise<void>;
  /** A fault (or its end) on the timeline. */
  record(kind: 'ChaosInjected' | 'ChaosRecovered', object: string, message: string): void;
  /** Registers what ends a fault still in effect when the environment goes down. */
  willUndo(key: string, undo: () => Promise<void>): void;
  undone(key: string): void;
  random?: () => number;
}

/**
 * Plays a Chaos Mesh object on the twin with the twin's own faults: PodChaos pod-kill deletes the pods
 * (as Chaos Mesh does, grace period 0), NetworkChaos delay/loss/netem/partition and HTTPChaos become
 * faults on the proxies' traffic to the selected pods (twin/network/traffic-faults.ts) until recovered
 * or until `spec.duration` of control-plane time has passed. Kinds and actions the twin cannot play
 * are refused before anything happens, naming what to use instead.
 * Twin simplification: PodChaos pod-failure/container-kill, StressChaos, DNSChaos and NetworkChaos
 * bandwidth/duplicate/corrupt are not played (Chaos Mesh's documented actions; they run on k3d).
 * Twin simplification: `spec.duration` runs on the control-plane clock, scaled like manifest durations.
 */
export async function playChaos(ctx: ChaosPlayerContext, obj: KubeObject): Promise<ChaosInjection> {
  const name = describeChaos(obj);
  if (!isChaosObject(obj))
    throw new TwinError(
      'TWIN_MANIFEST_INVALID',
      `${obj.kind} ${obj.metadata?.name}: not a Chaos Mesh chaos object (chaos-mesh.org/v1alpha1 PodChaos, NetworkChaos, HTTPChaos, StressChaos, DNSChaos)`,
    );
  refuseUnplayable(obj);
  const { twin } = ctx;
  const random = ctx.random ?? Math.random;
  const namespace = obj.metadata.namespace ?? 'default';
  const pods = twin.store.list({ kind: 'Pod' });
  const nodes = twin.store.list({ kind: 'Node' });
  const select = (spec: { selector: ChaosSelector; mode: ChaosMode; value?: string }, what: string) =>
    pickByMode(matchChaosSelector(spec.selector ?? {}, pods, nodes, namespace), spec, random, what);
  const targets = select(obj['spec'], name);
  const targetNames = targets.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  const durationMs = chaosDurationMs(obj);

  if (obj.kind === 'PodChaos') {
    ctx.record('ChaosInjected', name, `fault: ${name}: pod-kill of ${targetNames.join(', ')}`);
    for (const p of targets) await ctx.killPod({ namespace: p.metadata.namespace!, name: p.metadata.name });
    return { name, targets: targetNames, recover: async () => {} };
  }

  const peers = obj['spec'].target
    ? new Set(
        select(obj['spec'].target, `${name}: spec.target`)
          .map((p) => p.status?.podIP as string | undefined)
          .filter((ip): ip is string => !!ip),
      )
    : undefined;
  const rule = trafficRuleOf(obj, new Set(targetNames), peers);
  twin.network.trafficFaults.add(rule);
  const key = `chaos/${name}`;
  let recovered = false;
  let cancelTimer = () => {};
  const recover = async () => {
    if (recovered) return;
    recovered = true;
    cancelTimer();
    ctx.undone(key);
    twin.network.trafficFaults.remove(rule.id);
    ctx.record('ChaosRecovered', name, `fault undone: ${name} recovered on ${targetNames.length} pods`);
  };
  ctx.willUndo(key, recover);
  ctx.record(
    'ChaosInjected',
    name,
    `fault: ${name}: ${describeRule(rule)} on ${targetNames.join(', ')}${durationMs !== undefined ? ` for ${obj['spec'].duration}` : ''}`,
  );
  if (durationMs !== undefined) cancelTimer = twin.clock.after(durationMs, () => void recover());
  return { name, targets: targetNames, recover };
}

/** The proxies' fault that plays a NetworkChaos or HTTPChaos on the given pods. */
export function trafficRuleOf(obj: KubeObject, pods: Set<string>, peers?: Set<string>): TrafficFaultRule {
  const spec = obj['spec'] ?? {};
  const name = describeChaos(obj);
  const rule: TrafficFaultRule = { id: name, pods, ...(peers ? { peers } : {}) };
  if (obj.kind === 'HTTPChaos') {
    rule.http = {
      ...(spec.port !== undefined ? { port: spec.port } : {}),
      ...(spec.path ? { path: spec.path } : {}),
      ...(spec.method ? { method: spec.method } : {}),
      ...(spec.abort ? { abort: true } : {}),
      ...(spec.delay ? { delayMs: ms(spec.delay, `${name}: spec.delay`) } : {}),
      ...(spec.replace?.code !== undefined ? { code: spec.replace.code } : {}),
    };
    return rule;
  }
  const action = spec.action as string;
  if (action === 'partition') rule.partition = true;
  if ((action === 'delay' || action === 'netem') && spec.delay) {
    rule.delay = {
      latencyMs: ms(spec.delay.latency, `${name}: spec.delay.latency`),
      ...(spec.delay.jitter ? { jitterMs: ms(spec.delay.jitter, `${name}: spec.delay.jitter`) } : {}),
      ...(spec.direction === 'both' && spec.target ? { bothWays: true } : {}),
    };
  }
  if ((action === 'loss' || action === 'netem') && spec.loss) {
    const percent = Number(spec.loss.loss);
    if (!(percent >= 0 && percent <= 100))
      throw new TwinError(
        'TWIN_MANIFEST_INVALID',
        `${name}: spec.loss.loss: ${JSON.stringify(spec.loss.loss)} is not a percentage (0-100)`,
      );
    rule.lossPercent = percent;
  }
  if (action === 'delay' && !spec.delay)
    throw new TwinError('TWIN_MANIFEST_INVALID', `${name}: action delay needs spec.delay (latency)`);
  if (action === 'loss' && !spec.loss)
    throw new TwinError('TWIN_MANIFEST_INVALID', `${name}: action loss needs spec.loss (loss)`);
  return rule;
}

function refuseUnplayable(obj: KubeObject): void {
  const name = describeChaos(obj);
  const spec = obj['spec'] ?? {};
  const unsupported = (what: string) =>
    new TwinError(
      'TWIN_CHAOS_UNSUPPORTED',
      `${name}: ${what} is not played on the twin (it runs on k3d with Chaos Mesh: --env k3d); on the twin use ${alternatives}`,
    );
  if (obj.kind === 'StressChaos') throw unsupported('StressChaos (CPU and memory stress of live processes)');
  if (obj.kind === 'DNSChaos') throw unsupported('DNSChaos (the twin resolves cluster names in the pods)');
  if (obj.kind === 'PodChaos' && spec.action !== 'pod-kill')
    throw unsupported(`PodChaos action ${spec.action}`);
  if (obj.kind === 'NetworkChaos' && !['delay', 'loss', 'netem', 'partition'].includes(spec.action))
    throw unsupported(`NetworkChaos action ${spec.action}`);
  if (
    obj.kind === 'NetworkChaos' &&
    spec.action === 'netem' &&
    (spec.duplicate || spec.corrupt || spec.bandwidth)
  )
    throw unsupported('NetworkChaos netem duplicate/corrupt');
  if (obj.kind === 'NetworkChaos' && spec.externalTargets?.length)
    throw unsupported('NetworkChaos externalTargets (traffic leaving the cluster)');
  if (
    obj.kind === 'HTTPChaos' &&
    spec.target === 'Response' &&
    !spec.replace?.code &&
    !spec.delay &&
    !spec.abort
  )
    throw unsupported('HTTPChaos patches of responses');
  if (obj.kind === 'HTTPChaos' && (spec.patch || spec.replace?.body || spec.replace?.headers))
    throw unsupported('HTTPChaos body and header rewriting');
}

const alternatives =
  'PodChaos pod-kill, NetworkChaos delay/loss/netem/partition, HTTPChaos abort/delay/replace.code, or the environment faults (failZone, stopNode, partitionNode, drain)';

function describeRule(rule: TrafficFaultRule): string {
  const parts: string[] = [];
  if (rule.delay)
    parts.push(
      `delay ${rule.delay.latencyMs} ms${rule.delay.jitterMs ? ` ± ${rule.delay.jitterMs} ms` : ''}${rule.delay.bothWays ? ' both ways' : ''}`,
    );
  if (rule.lossPercent !== undefined) parts.push(`loss ${rule.lossPercent} %`);
  if (rule.partition) parts.push('partition');
  if (rule.http) {
    const h = rule.http;
    const what = [
      h.abort ? 'abort' : '',
      h.delayMs ? `delay ${h.delayMs} ms` : '',
      h.code ? `status ${h.code}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    parts.push(`HTTP ${what}${h.path ? ` on ${h.method ?? ''} ${h.path}`.replace('  ', ' ') : ''}`);
  }
  if (rule.peers) parts.push(`with ${rule.peers.size} peers`);
  return parts.join(', ');
}

function ms(text: string, where: string): number {
  const v = parseGoDuration(String(text));
  if (v === undefined)
    throw new TwinError(
      'TWIN_MANIFEST_INVALID',
      `${where}: ${JSON.stringify(text)} is not a duration (e.g. 100ms, 1s)`,
    );
  return v;
}
