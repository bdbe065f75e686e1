/**
 * Differential runs of a pod's container: the same command, args, env and mounted files (ConfigMaps,
 * Secrets, emptyDirs and claims as directories) run (a) in a Docker container of the image
 * docker/build-images.sh builds from the binding's Dockerfile and (b) in the twin's container sandbox,
 * and each outcome is reduced to what a cluster would show: the probe answers (serves), or the
 * container exits with a code and a last log line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { KubeObject } from '../../kube/object.ts';
import type { ImageConfig } from '../../system/dockerfile.ts';
import { REPO_ROOT } from '../../system/repo-root.ts';
import { redisCall } from '../../twin/data/redis/redis-call.ts';
import { containerEnvironment, expand } from '../../twin/kubelet/container-environment.ts';
import { ContainerProcess } from '../../twin/kubelet/container-runner.ts';
import { sandboxUnavailable } from '../../twin/kubelet/sandbox/sandbox-requirements.ts';
import { prepareSandboxedContainer } from '../../twin/kubelet/sandbox/sandboxed-container.ts';
import { prepareVolumeOwnership } from '../../twin/kubelet/sandbox/volume-ownership.ts';
import { containerMounts } from '../../twin/kubelet/volume-mounts.ts';
import { claimAddressBlock } from '../../twin/network/address-allocator.ts';
import { ANN_BIND_COMPLETED } from '../../twin/storage/pod-claims.ts';
import { ObjectStore } from '../../twin/store/object-store.ts';

export type Outcome =
  | { kind: 'serves'; answer: string }
  | { kind: 'exits'; code: number; message: string; lastLines?: string[] };

/**
 * The same outcome: the same answer, or the same exit code with the same final message. A program that
 * writes to both stdout and stderr (redis logs to stdout, reports a config error on stderr) reaches the
 * log through two pipes whose order the kernel does not keep, so the message of one run may be found
 * among the other's last lines instead of on the very last one.
 */
export function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.kind === 'serves' || b.kind === 'serves')
    return a.kind === 'serves' && b.kind === 'serves' && a.answer === b.answer;
  if (a.code !== b.code) return false;
  return (
    a.message === b.message ||
    (a.lastLines ?? []).includes(b.message) ||
    (b.lastLines ?? []).includes(a.message)
  );
}

/** A container of a pod, with the objects its env and volumes read. */
export interface ContainerCase {
  label: string;
  image: ImageConfig;
  pod: KubeObject;
  container: any;
  objects: KubeObject[];
}

const SANDBOX_CACHE = path.join(REPO_ROOT, '.twin', 'sandbox');

/** The image tag docker/build-images.sh gives each Docker build context (its `build <tag> <dir>` lines). */
export function localImageTags(): Map<string, string> {
  const script = readFileSync(path.join(REPO_ROOT, 'docker', 'build-images.sh'), 'utf8');
  const tags = new Map<string, string>();
  for (const m of script.matchAll(/^build (\S+) (\S+)$/gm))
    tags.set(path.join(REPO_ROOT, 'docker', m[2]!), m[1]!);
  return tags;
}

const dockerUp =
  spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 20_000 })
    .status === 0;

/** Why the Docker half cannot run for `image`, or undefined: no engine, no image, or an image older than its Dockerfile. */
export function dockerUnavailable(image: ImageConfig): string | undefined {
  if (!dockerUp) return 'needs a running Docker engine: `docker info` failed';
  const tag = localImageTags().get(image.contextDir);
  if (!tag)
    return `docker/build-images.sh builds no image from ${path.relative(REPO_ROOT, image.contextDir)}`;
  const inspect = (ref: string, format: string) =>
    spawnSync('docker', ['image', 'inspect', '-f', format, ref], { encoding: 'utf8', timeout: 20_000 });
  const label = inspect(tag, '{{ index .Config.Labels "dev.infra-twin.inputs" }}');
  if (label.status !== 0) return `needs the image ${tag}: run docker/build-images.sh`;
  const base = inspect('local/debian:bookworm', '{{.Id}}');
  if (base.status !== 0) return 'needs the image local/debian:bookworm: run docker/build-images.sh';
  // As build-images.sh: the base's id and the build context's files.
  const h = createHash('sha256').update(`${base.stdout.trim()}\n`);
  for (const f of readdirSync(image.contextDir).sort())
    h.update(readFileSync(path.join(image.contextDir, f)));
  if (h.digest('hex').slice(0, 16) !== label.stdout.trim())
    return `the image ${tag} was built from another version of ${path.relative(REPO_ROOT, image.contextDir)}: run docker/build-images.sh`;
  return undefined;
}

/** Why the twin half cannot run for `image`, or undefined. */
export function twinUnavailable(): string | undefined {
  return sandboxUnavailable();
}

function storeOf(objects: KubeObject[]): ObjectStore {
  const store = new ObjectStore();
  for (const o of objects)
    if (['ConfigMap', 'Secret', 'Service', 'Namespace'].includes(o.kind)) store.apply(structuredClone(o));
  return store;
}

/** The port a probe asks: the container's first declared port, else the image's first EXPOSE. */
function probePort(c: ContainerCase): number | undefined {
  return c.container.ports?.[0]?.containerPort ?? c.image.exposedPorts[0];
}

/** What the container serves at host:port: Redis `ROLE` (master, slave, sentinel), PostgreSQL `current_user`, or an HTTP status. */
async function probe(
  c: ContainerCase,
  env: Record<string, string>,
  host: string,
): Promise<string | undefined> {
  const port = probePort(c);
  if (port === undefined) return undefined;
  if (port === 6379 || port === 26379) {
    const role = await redisCall<unknown[]>({ host, port }, ['ROLE'], { connectMs: 1000, commandMs: 1000 });
    if (!Array.isArray(role)) return undefined;
    const mode = await redisCall<string>({ host, port }, ['INFO', 'server'], {
      connectMs: 1000,
      commandMs: 1000,
    });
    return `redis ${String(role[0])} (${/redis_mode:(\w+)/.exec(mode ?? '')?.[1] ?? '?'} mode)`;
  }
  if (port === 5432) {
    const client = new pg.Client({
      host,
      port,
      user: env['POSTGRES_USER'] || 'postgres',
      password: env['POSTGRES_PASSWORD'] ?? '',
      database: env['POSTGRES_DB'] || env['POSTGRES_USER'] || 'postgres',
      connectionTimeoutMillis: 1000,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      const r = await client.query('select current_user as u, current_database() as d, 1 as one');
      return `postgres ${r.rows[0].u}@${r.rows[0].d} select 1 = ${r.rows[0].one}`;
    } catch {
      return undefined;
    } finally {
      await client.end().catch(() => {});
    }
  }
  // Any other port: an HTTP server (the OpenFaaS watchdog contract's health path, which a function
  // image answers without running the function), answered with its status.
  try {
    const res = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port}/_/health`, {
      signal: AbortSignal.timeout(1000),
    });
    await res.body?.cancel();
    return `http ${res.status}`;
  } catch {
    return undefined;
  }
}

/** The last meaningful line of a container's log, without Redis's and PostgreSQL's pid/time prefixes. */
export function lastMessage(log: string): string {
  const lines = log
    .split('\n')
    .map((l) =>
      l
        .replace(/^\d+:[XCMS] \d{1,2} \w{3} \d{4} [\d:.]+ [#*.-] /, '')
        .replace(/^\d+:signal-handler \(\d+\) /, '')
        .replace(/^\d{4}-\d\d-\d\d [\d:.]+ \w+ \[\d+\] /, '')
        .trim(),
    )
    .filter(Boolean);
  return lines.at(-1) ?? '';
}

/** The last `n` lines of a log, normalised as lastMessage does. */
export function lastLines(log: string, n = 3): string[] {
  const all = log.split('\n');
  const out: string[] = [];
  for (let i = all.length - 1; i >= 0 && out.length < n; i--) {
    const m = lastMessage(all[i]!);
    if (m) out.unshift(m);
  }
  return out;
}

/**
 * The container's volume mounts as the twin's kubelet makes them (volume-mounts.ts), every claim bound
 * to a volume of its own under `dir`, ConfigMap and Secret files written, emptyDirs and fsGroup as
 * the kubelet leaves them.
 */
function mountsOf(c: ContainerCase, dir: string) {
  const objects = c.objects;
  const resolved = containerMounts(
    c.pod,
    c.container,
    { volumesDir: path.join(dir, 'volumes'), podVolumesDir: path.join(dir, 'pod', 'volumes') },
    {
      claim: (_ns, name) => ({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name, annotations: { [ANN_BIND_COMPLETED]: 'yes' } },
        spec: { volumeName: `pv-${name}` },
      }),
      volume: (name) => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name } }),
      object: (kind, ns, name) =>
        objects.find((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === name),
    },
  );
  if ('failedMount' in resolved) throw new Error(resolved.failedMount);
  for (const f of resolved.files) {
    mkdirSync(path.dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content);
  }
  prepareVolumeOwnership(
    resolved.mounts,
    path.join(dir, 'pod', 'volumes', 'empty-dir'),
    c.pod.spec?.securityContext?.fsGroup,
  );
  return resolved.mounts;
}

/** The env the kubelet gives the container (from the pod spec; the image's ENV is the image's). */
function kubeletEnv(c: ContainerCase, podIp: string): Record<string, string> {
  const pod = structuredClone(c.pod);
  pod.status = { ...pod.status, podIP: podIp, hostIP: '127.0.0.1' };
  return containerEnvironment(storeOf(c.objects), pod, c.container);
}

async function waitFor(
  deadline: number,
  running: () => boolean,
  serves: () => Promise<string | undefined>,
): Promise<string | undefined> {
  while (performance.now() < deadline) {
    if (!running()) return undefined;
    const answer = await serves();
    if (answer) return answer;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

/** Runs the container in the twin's sandbox at a pod address of a claimed block. */
export async function runOnTwin(c: ContainerCase, timeoutMs = 60_000): Promise<Outcome> {
  const block = claimAddressBlock();
  const podIp = `127.10.${block.first}.2`;
  const podsDir = mkdtempSync(path.join(tmpdir(), 'twin-diff-'));
  chmodSync(podsDir, 0o755);
  const podDir = path.join(podsDir, 'pod');
  mkdirSync(podDir, { recursive: true });
  const pod = structuredClone(c.pod);
  pod.status = { podIP: podIp };
  const env = kubeletEnv(c, podIp);
  const sandbox = await prepareSandboxedContainer({
    image: c.image,
    pod,
    podIp,
    container: c.container,
    env,
    mounts: mountsOf(c, podsDir),
    podDir,
    containerDir: path.join(podDir, 'containers', `${c.container.name}-0`),
    cacheDir: SANDBOX_CACHE,
    nameserver: undefined,
  });
  const logFile = path.join(podsDir, `${c.container.name}.log`);
  const proc = new ContainerProcess({
    argv: sandbox.argv,
    env: sandbox.env,
    cwd: '/',
    logFile,
    stopSignal: sandbox.stopSignal,
    stopMainProcessOnly: true,
  });
  try {
    const answer = await waitFor(
      performance.now() + timeoutMs,
      () => proc.running,
      () => probe(c, { ...c.image.env, ...env }, podIp),
    );
    if (answer) return { kind: 'serves', answer };
    if (proc.running)
      return { kind: 'exits', code: -1, message: `neither served nor exited in ${timeoutMs} ms` };
    const { code, signal } = await proc.exited;
    const log = readFileSync(logFile, 'utf8');
    return {
      kind: 'exits',
      code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15),
      message: lastMessage(log),
      lastLines: lastLines(log),
    };
  } finally {
    await proc.stop(2000);
    block.release();
    rmSync(podsDir, { recursive: true, force: true });
  }
}

/** Runs the container with `docker run`: the pod's command/args, env, volumes, host name and DNS search list. */
export async function runInDocker(c: ContainerCase, timeoutMs = 60_000): Promise<Outcome> {
  const tag = localImageTags().get(c.image.contextDir)!;
  const name = `twin-diff-${randomBytes(4).toString('hex')}`;
  const podsDir = mkdtempSync(path.join(tmpdir(), 'twin-diff-docker-'));
  chmodSync(podsDir, 0o755);
  const ns = c.pod.metadata.namespace ?? 'default';
  const env = kubeletEnv(c, '0.0.0.0');
  const args = ['run', '-d', '--name', name, '--hostname', c.pod.spec.hostname ?? c.pod.metadata.name];
  if (c.pod.spec.subdomain) args.push('--domainname', `${c.pod.spec.subdomain}.${ns}.svc.cluster.local`);
  // An unreachable name server, as on the twin without one: cluster names fail at once.
  args.push('--dns', '127.0.0.1', '--dns-option', 'ndots:5');
  for (const d of [`${ns}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'])
    args.push('--dns-search', d);
  for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
  for (const m of mountsOf(c, podsDir)) args.push('-v', `${m.path}:${m.mountPath}${m.readOnly ? ':ro' : ''}`);
  if (c.container.workingDir) args.push('-w', c.container.workingDir);
  const sc = { ...(c.pod.spec.securityContext ?? {}), ...(c.container.securityContext ?? {}) };
  if (sc.runAsUser !== undefined)
    args.push('-u', `${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ''}`);
  // The pod's fsGroup and supplementalGroups are supplementary groups of the container's process.
  const podSc = c.pod.spec.securityContext ?? {};
  for (const g of [
    ...(podSc.supplementalGroups ?? []),
    ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : []),
  ])
    args.push('--group-add', String(g));
  // The kubelet expands $(VAR) in command and args before the runtime sees them.
  const command = (c.container.command as string[] | undefined)?.map((a) => expand(a, env));
  if (command) args.push('--entrypoint', command[0]!);
  args.push(
    tag,
    ...(command ? command.slice(1) : []),
    ...((c.container.args as string[] | undefined) ?? []).map((a) => expand(a, env)),
  );
  execFileSync('docker', args, { encoding: 'utf8' });
  const inspect = () =>
    execFileSync(
      'docker',
      ['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}} {{.NetworkSettings.IPAddress}}', name],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .split(' ');
  try {
    const ip = inspect()[2]!;
    const answer = await waitFor(
      performance.now() + timeoutMs,
      () => inspect()[0] === 'true',
      () => probe(c, { ...c.image.env, ...env }, ip),
    );
    if (answer) return { kind: 'serves', answer };
    const [running, code] = inspect();
    if (running === 'true')
      return { kind: 'exits', code: -1, message: `neither served nor exited in ${timeoutMs} ms` };
    // Both streams in the order the container wrote them.
    const logs = spawnSync('sh', ['-c', `docker logs ${name} 2>&1`], { encoding: 'utf8' });
    return {
      kind: 'exits',
      code: Number(code),
      message: lastMessage(logs.stdout),
      lastLines: lastLines(logs.stdout),
    };
  } finally {
    spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
    // Files the container's users made are not ours to remove as another user; root can.
    rmSync(podsDir, { recursive: true, force: true });
  }
}

/** A pod of a workload's template: a StatefulSet's pod `ordinal` (host name, subdomain, claims) or a Deployment's. */
export function podOf(workload: KubeObject, ordinal = 0): KubeObject {
  const template = structuredClone(workload.spec.template);
  const ns = workload.metadata.namespace ?? 'default';
  const spec = template.spec;
  let name = `${workload.metadata.name}-${randomBytes(3).toString('hex')}`;
  if (workload.kind === 'StatefulSet') {
    name = `${workload.metadata.name}-${ordinal}`;
    spec.hostname = name;
    spec.subdomain = workload.spec.serviceName;
    for (const claim of workload.spec.volumeClaimTemplates ?? [])
      spec.volumes = [
        ...(spec.volumes ?? []),
        { name: claim.metadata.name, persistentVolumeClaim: { claimName: `${claim.metadata.name}-${name}` } },
      ];
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      uid: randomBytes(8).toString('hex'),
      labels: template.metadata?.labels ?? {},
    },
    spec,
  };
}
