import type { KubeObject } from '../../kube/object.ts';
import { splitImage } from '../twin-bindings.ts';
import { podDemands } from './pod-demand.ts';

/**
 * Images this package can run live, by repository: the data services' images as their Dockerfiles
 * make them from Debian packages, and the twin's stand-ins for operator programs.
 */
export const PACKAGE_BINDINGS: ReadonlyArray<{
  image: string;
  key: 'entry' | 'dockerfile';
  path: string;
  why: string;
}> = [
  {
    image: 'ghcr.io/cloudnative-pg/postgresql',
    key: 'entry',
    path: 'infra-twin/twin/cnpg/instance-manager.ts',
    why: 'CloudNativePG instances: PostgreSQL from the Debian package postgresql',
  },
  {
    image: 'ghcr.io/cloudnative-pg/pgbouncer',
    key: 'entry',
    path: 'infra-twin/twin/cnpg/pgbouncer-entrypoint.ts',
    why: 'CloudNativePG Pooler pods: PgBouncer from the Debian package pgbouncer',
  },
  {
    image: 'redis',
    key: 'dockerfile',
    path: 'infra-twin/docker/redis/Dockerfile',
    why: 'the official redis image',
  },
  {
    image: 'quay.io/opstree/redis',
    key: 'dockerfile',
    path: 'infra-twin/docker/opstree-redis/Dockerfile',
    why: "Opstree's redis image",
  },
  {
    image: 'postgres',
    key: 'dockerfile',
    path: 'infra-twin/docker/postgres/Dockerfile',
    why: 'the official postgres image',
  },
  {
    image: 'quay.io/prometheus/prometheus',
    key: 'entry',
    path: 'infra-twin/twin/prometheus/main.ts',
    why: "the twin's Prometheus-compatible server",
  },
  {
    image: 'prom/prometheus',
    key: 'entry',
    path: 'infra-twin/twin/prometheus/main.ts',
    why: "the twin's Prometheus",
  },
];

/** Every image the manifests run (containers, init containers, and those operators' resources imply). */
export function imagesOf(objects: KubeObject[]): string[] {
  const images = new Set<string>();
  for (const d of podDemands(objects).demands)
    for (const c of [...(d.spec?.containers ?? []), ...(d.spec?.initContainers ?? [])])
      if (typeof c.image === 'string') images.add(c.image);
  for (const o of objects)
    if (o.kind === 'Pooler' && o.apiVersion.startsWith('postgresql.cnpg.io/') && !o.spec?.template)
      images.add('ghcr.io/cloudnative-pg/pgbouncer:1.23.0');
  return [...images].sort();
}

/** twin-bindings.yaml for the images: those this package can run live bound, every other one listed as emulated. */
export function inferBindings(objects: KubeObject[]): { text: string; live: string[]; emulated: string[] } {
  const repos = [...new Set(imagesOf(objects).map((i) => splitImage(i).repository))].sort();
  const live: string[] = [];
  const emulated: string[] = [];
  const lines = [
    '# Twin bindings (docs/own-system.md): an image with a binding runs live on the twin; every other',
    '# image is emulated (it goes through the pod lifecycle, holds its resources, counts for spread,',
    '# PodDisruptionBudgets and HPAs, and serves nothing). Written by `twin init`.',
    '#',
    '# To run one of your images live, bind its repository (any tag) to what the image runs:',
    '#   - image: <repository>',
    '#     dockerfile: path/to/Dockerfile   # the image built FROM Debian packages this machine has, run in a sandbox',
    '#     entry: path/to/server.ts         # or: a TypeScript program run with node',
    '#     command: [path/to/program]       # or: an executable, run with the container’s args',
    '# Paths are relative to the repository root; infra-twin/… names a file of the installed package.',
    'apiVersion: twin.dev/v1alpha1',
    'kind: TwinBindings',
  ];
  const bound: string[] = [];
  for (const repo of repos) {
    const known = PACKAGE_BINDINGS.find((b) => b.image === repo);
    if (known) {
      live.push(repo);
      bound.push(`  # ${known.why}`, `  - image: ${repo}`, `    ${known.key}: ${known.path}`);
    } else emulated.push(repo);
  }
  lines.push(bound.length > 0 ? 'images:' : 'images: []', ...bound);
  if (emulated.length > 0) {
    lines.push('# Emulated (no binding):');
    for (const repo of emulated) lines.push(`#   - image: ${repo}`);
  }
  return { text: `${lines.join('\n')}\n`, live, emulated };
}
