import { expect, it } from 'vitest';
import type { Environment, KubeObject } from '../../env/environment.ts';
import { scenario } from '../../harness/index.ts';
import { pollUntil } from '../support/cluster-state.ts';
import { genericTarget } from './support/system-target.ts';

const ROLLOUT = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' } as const;
/** The pod-template annotation the scenario changes to make a new revision (a release would change the image). */
const REVISION_ANNOTATION = 'infra-twin.dev/canary-run';

/**
 * A canary of any Argo Rollout (generic: the Rollout is TWIN_ROLLOUT=<namespace>/<name>, else the
 * system's first Rollout with a canary strategy). A new revision goes through the steps of the
 * Rollout's own spec: each setWeight scales the canary to ceil(weight × replicas / 100) pods (Argo's
 * basic canary, or the weight the traffic router reports), pauses with a duration end on their own,
 * indefinite pauses are promoted as `kubectl argo rollouts promote` does, and the Rollout ends Healthy
 * on the new revision. A second revision is aborted at its first pause: the stable ReplicaSet stays,
 * the Rollout turns Degraded and the canary pods go away.
 */
const target = genericTarget('canary');
if (target)
  scenario('canary', { ...target, upTimeoutMs: 240_000 }, (s) => {
    let ref = { ...ROLLOUT, namespace: '', name: '' };
    let steps: any[] = [];
    let replicas = 1;

    it('finds a canary Rollout and waits until it is Healthy', async () => {
      const env = s.env;
      const all = (await env.kube.list(ROLLOUT)).filter((r) => r.spec?.strategy?.canary);
      const wanted = process.env['TWIN_ROLLOUT'];
      const ro = wanted ? all.find((r) => `${r.metadata.namespace}/${r.metadata.name}` === wanted) : all[0];
      s.measure('Rollouts with a canary strategy', all.length, 'Rollouts', { atLeast: 1 });
      expect(ro, wanted ? `Rollout ${wanted}` : 'a Rollout with a canary strategy').toBeDefined();
      ref = { ...ROLLOUT, namespace: ro!.metadata.namespace ?? 'default', name: ro!.metadata.name };
      steps = ro!.spec.strategy.canary.steps ?? [];
      replicas = ro!.spec.replicas ?? 1;
      s.note(`Rollout ${ref.namespace}/${ref.name}: ${replicas} replicas, steps ${JSON.stringify(steps)}`);
      if (all.length > 1)
        s.note(
          `other canary Rollouts (TWIN_ROLLOUT picks one): ${all
            .slice(1)
            .map((r) => `${r.metadata.namespace}/${r.metadata.name}`)
            .join(', ')}`,
        );
      await s.step(`wait for Rollout ${ref.namespace}/${ref.name} to be Healthy`, () =>
        env.kube.waitFor(ref, (r) => r?.status?.phase === 'Healthy', {
          timeout: 120_000,
          what: `Rollout ${ref.name} Healthy`,
        }),
      );
    });

    it('rolls a new revision through every step of its spec and ends Healthy on it', async () => {
      const env = s.env;
      const before = (await env.kube.get(ref))!;
      const stableBefore = before.status?.stableRS;
      const seen: Array<{ index: number; phase: string; updated: number; weight: number | undefined }> = [];
      const stop = env.kube.watch(ROLLOUT, (e) => {
        const o = e.object;
        if (o.metadata.name !== ref.name || o.metadata.namespace !== ref.namespace) return;
        seen.push({
          index: o.status?.currentStepIndex ?? 0,
          phase: o.status?.phase ?? '',
          updated: o.status?.updatedReplicas ?? 0,
          weight: o.status?.canary?.weights?.canary?.weight,
        });
      });
      const pauseSeconds = steps.reduce(
        (a, st) => a + (st.pause?.duration ? seconds(st.pause.duration) : 0),
        0,
      );
      await s.step('change the pod template (a new revision)', () => newRevision(env, ref, s.runId));
      let promotions = 0;
      const done = await s.step(`follow the ${steps.length} steps, promoting indefinite pauses`, () =>
        pollUntil(
          async () => {
            const r = (await env.kube.get(ref))!;
            const st = r.status ?? {};
            const index = st.currentStepIndex ?? 0;
            if (st.abort) throw new Error(`the Rollout aborted: ${JSON.stringify(st.conditions ?? [])}`);
            const step = steps[index];
            if (
              step?.pause &&
              !step.pause.duration &&
              st.pauseConditions?.some((p: any) => p.reason === 'CanaryPauseStep')
            ) {
              await promote(env, ref, index, steps.length);
              promotions++;
              s.event('RolloutPromoted', `step ${index} (indefinite pause) promoted`);
            }
            return index >= steps.length && st.phase === 'Healthy' && st.stableRS === st.currentPodHash
              ? r
              : undefined;
          },
          {
            timeoutMs: env.clock.toReal(pauseSeconds * 1000) + 180_000,
            what: `Rollout ${ref.name} to finish its steps`,
            everyMs: 50,
          },
        ),
      );
      stop();
      s.measure('indefinite pauses promoted', promotions, 'promotions', {
        equals: steps.filter((st) => st.pause && !st.pause.duration).length,
      });
      // Each setWeight, seen while the Rollout stood at the step after it: the canary's size (or the router's weight).
      let weight = 0;
      steps.forEach((st, i) => {
        if (st.setWeight === undefined) return;
        weight = st.setWeight;
        const at = seen.filter((x) => x.index === i + 1);
        if (at.length === 0 || i + 1 >= steps.length) return;
        const last = at[at.length - 1]!;
        if (last.weight !== undefined)
          s.measure(`step ${i} setWeight ${weight}: canary weight`, last.weight, '%', { equals: weight });
        else
          s.measure(`step ${i} setWeight ${weight}: canary pods`, last.updated, 'pods', {
            equals: Math.min(replicas, Math.ceil((weight * replicas) / 100)),
            description: 'basic canary: ceil(weight × replicas / 100)',
          });
      });
      // Events before the controller took up the new revision still show the last one's final step.
      const order = seen
        .slice(
          Math.max(
            0,
            seen.findIndex((x) => x.index === 0),
          ),
        )
        .map((x) => x.index);
      expect(order, 'step indexes only move forward').toEqual([...order].sort((a, b) => a - b));
      s.measure('steps completed', done.status.currentStepIndex, 'steps', { equals: steps.length });
      s.measure('updated replicas at the end', done.status.updatedReplicas ?? 0, 'pods', {
        equals: replicas,
      });
      s.measure('available replicas at the end', done.status.availableReplicas ?? 0, 'pods', {
        equals: replicas,
      });
      expect(done.status.stableRS, 'the new revision is stable').not.toBe(stableBefore);
    });

    it('aborts the next revision at a pause: back to the stable revision', async () => {
      const env = s.env;
      // An indefinite pause holds the canary until the abort; a timed one may end before it lands.
      const indefinite = steps.findIndex((st) => st.pause && !st.pause.duration);
      const firstPause = indefinite >= 0 ? indefinite : steps.findIndex((st) => st.pause);
      if (firstPause < 0) {
        s.note('the Rollout has no pause step: abort is not exercised (its steps run through at once)');
        return;
      }
      const stable = (await env.kube.get(ref))!.status.stableRS;
      await s.step('change the pod template again', () => newRevision(env, ref, `${s.runId}-abort`));
      await s.step(`wait for the Rollout to pause at step ${firstPause}`, () =>
        env.kube.waitFor(
          ref,
          (r) => r?.status?.currentPodHash !== stable && (r?.status?.currentStepIndex ?? 0) >= firstPause,
          { timeout: 120_000, what: `Rollout ${ref.name} at step ${firstPause}` },
        ),
      );
      const at = (await env.kube.get(ref))!.status;
      expect(at.currentStepIndex, 'the canary is still in flight').toBeLessThan(steps.length);
      const canaryHash = (await env.kube.get(ref))!.status.currentPodHash;
      await s.step('abort (kubectl argo rollouts abort)', () =>
        env.kube.patch(
          ref,
          (r) => {
            r.status = { ...r.status, abort: true };
          },
          { subresource: 'status' },
        ),
      );
      const aborted = await s.step('wait for the Rollout to be Degraded on its stable revision', () =>
        env.kube.waitFor(ref, (r) => r?.status?.phase === 'Degraded', {
          timeout: 60_000,
          what: `Rollout ${ref.name} Degraded`,
        }),
      );
      expect(aborted!.status.stableRS, 'the stable ReplicaSet stays').toBe(stable);
      const delay = seconds(
        `${(await env.kube.get(ref))!.spec.strategy.canary.abortScaleDownDelaySeconds ?? 30}s`,
      );
      await s.step('wait for the canary pods to go', () =>
        pollUntil(
          async () => {
            const pods = await env.kube.list(
              { kind: 'Pod' },
              {
                namespace: ref.namespace,
                labelSelector: { matchLabels: { 'rollouts-pod-template-hash': canaryHash } },
              },
            );
            return pods.filter((p) => !p.metadata.deletionTimestamp).length === 0 ? true : undefined;
          },
          {
            timeoutMs: env.clock.toReal((delay + 60) * 1000) + 60_000,
            what: `the pods of the aborted revision ${canaryHash} to go`,
          },
        ),
      );
      const stablePods = await env.kube.list(
        { kind: 'Pod' },
        {
          namespace: ref.namespace,
          labelSelector: { matchLabels: { 'rollouts-pod-template-hash': stable } },
        },
      );
      s.measure('stable pods after the abort', stablePods.length, 'pods', { equals: replicas });
    });
  });

async function newRevision(
  env: Environment,
  ref: { namespace: string; name: string },
  value: string,
): Promise<void> {
  await env.kube.patch({ ...ROLLOUT, ...ref }, (r: KubeObject) => {
    r.spec.template.metadata ??= {};
    r.spec.template.metadata.annotations = {
      ...(r.spec.template.metadata.annotations ?? {}),
      [REVISION_ANNOTATION]: value,
    };
  });
}

/** `kubectl argo rollouts promote`: unpause and move past the pause step. */
async function promote(
  env: Environment,
  ref: { namespace: string; name: string },
  index: number,
  count: number,
): Promise<void> {
  await env.kube.patch(
    { ...ROLLOUT, ...ref },
    (r: KubeObject) => {
      r.status ??= {};
      delete r.status.pauseConditions;
      delete r.status.controllerPause;
      if (index < count) r.status.currentStepIndex = index + 1;
    },
    { subresource: 'status' },
  );
}

function seconds(d: string | number): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(d);
  if (!m) return 0;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n;
}
