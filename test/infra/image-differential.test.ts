import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/object.ts';
import { instructions } from '../../system/dockerfile.ts';
import { renderKustomization } from '../../system/render/index.ts';
import { REPO_ROOT } from '../../system/repo-root.ts';
import { type TwinBinding, TwinBindings } from '../../system/twin-bindings.ts';
import { redisClusterSpec, roleStatefulSet } from '../../twin/redis-operator/redis-cluster-spec.ts';
import {
  type ContainerCase,
  dockerUnavailable,
  podOf,
  runInDocker,
  runOnTwin,
  sameOutcome,
  twinUnavailable,
} from './image-differential.ts';

/**
 * For every binding of every system (infra/<system>/twin-bindings.yaml): an image bound by its
 * Dockerfile runs each container the system's overlays give it — the same command, args, env and
 * mounted files — in Docker and on the twin, with the same outcome (serves the same answer, or exits
 * with the same code and message). A reference workload bound by its TypeScript entry is checked
 * against its Dockerfile: the image's CMD runs the bundle of that entry, and no manifest replaces it.
 */
const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync(t, ['version', '--client'], { stdio: 'ignore' }).status === 0,
);

interface SystemBindings {
  system: string;
  bindings: TwinBindings;
  /** Every rendered object of every overlay, by overlay. */
  overlays: Map<string, KubeObject[]>;
}

async function loadSystems(): Promise<SystemBindings[]> {
  const out: SystemBindings[] = [];
  for (const system of readdirSync(path.join(REPO_ROOT, 'infra')).sort()) {
    const dir = path.join(REPO_ROOT, 'infra', system);
    if (!existsSync(path.join(dir, 'twin-bindings.yaml'))) continue;
    const bindings = await TwinBindings.load(path.join(dir, 'twin-bindings.yaml'), REPO_ROOT);
    const overlays = new Map<string, KubeObject[]>();
    if (hasKustomize)
      for (const overlay of ['local', 'production']) {
        const o = path.join(dir, 'k8s', 'overlays', overlay);
        if (existsSync(o))
          overlays.set(
            overlay,
            (await renderKustomization(o, { cwd: REPO_ROOT })).map((r) => r.object),
          );
      }
    out.push({ system, bindings, overlays });
  }
  return out;
}

/** Workloads of the rendered objects, and those the twin's operator controllers make from custom resources. */
function workloads(objects: KubeObject[]): KubeObject[] {
  const direct = objects.filter((o) =>
    ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'].includes(o.kind),
  );
  const made = objects
    .filter((o) => o.kind === 'RedisCluster')
    .flatMap((cr) =>
      (['leader', 'follower'] as const).map((role) => roleStatefulSet(cr, redisClusterSpec(cr), role)),
    );
  return [...direct, ...made];
}

const systems = await loadSystems();

/** Containers (deduplicated by what runs) of every overlay whose image is bound to `binding`. */
function casesOf(s: SystemBindings, binding: TwinBinding): ContainerCase[] {
  const cases = new Map<string, ContainerCase>();
  for (const [overlay, objects] of s.overlays)
    for (const w of workloads(objects))
      for (const container of w.spec?.template?.spec?.containers ?? []) {
        const resolved = s.bindings.resolve(container.image);
        if (!resolved?.image || resolved.image.dockerfile !== path.resolve(REPO_ROOT, binding.dockerfile!))
          continue;
        const ordinals = w.kind === 'StatefulSet' && (w.spec.replicas ?? 1) > 1 ? [0, 1] : [0];
        for (const ordinal of ordinals) {
          const pod = podOf(w, ordinal);
          const c: ContainerCase = {
            label: `${s.system}/${overlay}: ${w.kind} ${w.metadata.namespace}/${w.metadata.name} pod ${pod.metadata.name} container ${container.name}`,
            image: resolved.image,
            pod,
            container,
            objects,
          };
          const key = JSON.stringify([
            pod.metadata.name,
            container,
            pod.spec.volumes,
            objects
              .filter((o) => o.kind === 'ConfigMap' || o.kind === 'Secret')
              .map((o) => [o.metadata, o['data']]),
          ]);
          if (!cases.has(key)) cases.set(key, c);
        }
      }
  return [...cases.values()];
}

describe.skipIf(!hasKustomize)(
  'image differential (needs kubectl or kustomize to render the systems)',
  () => {
    for (const s of systems) {
      describe(s.system, () => {
        for (const binding of s.bindings.list()) {
          if (binding.dockerfile) {
            const cases = casesOf(s, binding);
            it(`${binding.image}: some overlay runs the image`, () => {
              expect(
                cases.length,
                `no container of ${s.system}'s overlays uses ${binding.image}`,
              ).toBeGreaterThan(0);
            });
            for (const c of cases) {
              const why = dockerUnavailable(c.image) ?? twinUnavailable();
              it.skipIf(why !== undefined)(
                `${c.label}: the same outcome in Docker and on the twin${why ? ` (${why})` : ''}`,
                async () => {
                  const docker = await runInDocker(c);
                  const twin = await runOnTwin(c);
                  expect(
                    docker.kind === 'exits' && docker.code === -1,
                    `Docker: ${JSON.stringify(docker)}`,
                  ).toBe(false);
                  expect(
                    sameOutcome(twin, docker),
                    `twin: ${JSON.stringify(twin)}\nDocker: ${JSON.stringify(docker)}`,
                  ).toBe(true);
                },
                180_000,
              );
            }
          } else if (binding.entry?.startsWith('workloads/')) {
            it(`${binding.image}: the image's CMD runs the bundle of ${binding.entry}, and no manifest replaces it`, () => {
              const dockerfile = path.join(REPO_ROOT, path.dirname(binding.entry!), 'Dockerfile');
              const ins = instructions(readFileSync(dockerfile, 'utf8'));
              const build = ins.find((i) => i.keyword === 'RUN' && /\besbuild\b/.test(i.rest))!;
              expect(build, `${dockerfile} bundles with esbuild`).toBeDefined();
              expect(build.rest.split(/\s+/)).toContain(binding.entry);
              const outfile = /--outfile=(\S+)/.exec(build.rest)![1]!;
              const cmd = JSON.parse(ins.findLast((i) => i.keyword === 'CMD')!.rest) as string[];
              expect(cmd).toEqual(['node', path.posix.basename(outfile)]);
              expect(
                ins.some((i) => i.keyword === 'ENTRYPOINT'),
                `${dockerfile} sets no ENTRYPOINT`,
              ).toBe(false);
              for (const [overlay, objects] of s.overlays)
                for (const w of workloads(objects))
                  for (const c of w.spec?.template?.spec?.containers ?? [])
                    if (s.bindings.resolve(c.image)?.entry === path.resolve(REPO_ROOT, binding.entry!))
                      expect(
                        { command: c.command, args: c.args },
                        `${s.system}/${overlay}: ${w.kind} ${w.metadata.name} container ${c.name} replaces the image's CMD`,
                      ).toEqual({ command: undefined, args: undefined });
            });
          } else {
            const what = binding.entry?.startsWith('twin/cnpg/')
              ? 'CloudNativePG’s instance manager, which the operator runs in the pods it makes; tested in test/twin/cnpg'
              : binding.entry?.startsWith('twin/nats/')
                ? 'Debian’s nats-server run with the container’s arguments, tested in test/workloads/openfaas.test.ts'
                : binding.entry?.startsWith('twin/prometheus/')
                  ? 'the twin’s Prometheus-compatible server, tested against Debian’s Prometheus in test/twin/prometheus'
                  : 'a program of the twin’s';
            it.skip(`${binding.image} → ${binding.entry ?? binding.command?.join(' ')} (not the image’s entrypoint: ${what})`, () => {});
          }
        }
      });
    }
  },
);
