import { execa } from 'execa';
import { CLUSTER_HOST_GATEWAY, DEFAULT_POSTGRES, type Endpoint } from './services.ts';

/** The compose project of docker-compose.yml (its `name:`). */
export const COMPOSE_PROJECT = 'infra-twin';

/** Host ports docker-compose.yml publishes, by service. */
export const COMPOSE_PORTS: Record<string, number> = {
  localstack: 4566,
  kafka: 9092,
  'postgres-primary': 5432,
  'postgres-standby': 5433,
  'redis-master': 6379,
  'redis-replica': 6380,
  'redis-sentinel-1': 26379,
  'redis-sentinel-2': 26380,
  'redis-sentinel-3': 26381,
};

export interface ComposeStack {
  services: Record<string, Endpoint>;
  postgresUrl: string | undefined;
  localstackUrl: string | undefined;
}

/** Service names of running containers of the compose project, from Docker's compose labels. */
export async function runningComposeServices(project = COMPOSE_PROJECT): Promise<string[]> {
  const r = await execa(
    'docker',
    [
      'ps',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--format',
      '{{.Label "com.docker.compose.service"}}',
    ],
    { reject: false, timeout: 20_000 },
  );
  if (r.failed) return [];
  return String(r.stdout).split('\n').filter(Boolean).sort();
}

/**
 * The already-running compose stack as endpoints (the harness uses it instead of starting containers),
 * or undefined when none of its services runs.
 */
export function composeStack(running: string[]): ComposeStack | undefined {
  const services: Record<string, Endpoint> = {};
  for (const name of running) {
    const port = COMPOSE_PORTS[name];
    if (port) services[name] = { host: '127.0.0.1', port, fromCluster: `${CLUSTER_HOST_GATEWAY}:${port}` };
  }
  if (Object.keys(services).length === 0) return undefined;
  const pg = services['postgres-primary'];
  const ls = services['localstack'];
  return {
    services,
    postgresUrl: pg
      ? `postgres://${DEFAULT_POSTGRES.username}:${DEFAULT_POSTGRES.password}@${pg.host}:${pg.port}/${DEFAULT_POSTGRES.database}`
      : undefined,
    localstackUrl: ls ? `http://${ls.host}:${ls.port}` : undefined,
  };
}
