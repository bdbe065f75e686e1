import { KafkaContainer } from '@testcontainers/kafka';
import { LocalstackContainer } from '@testcontainers/localstack';
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import type { StartedTestContainer } from 'testcontainers';
import { type ContainerName, imageFor, localstackEnvironment } from './images.ts';

/**
 * The services the full-fidelity environment runs beside the k3d cluster, started with testcontainers.
 * Each is reachable from the scenario on a published host port and from pods through the host
 * gateway: k3d puts `host.k3d.internal` (the Docker host) in every node's /etc/hosts and CoreDNS.
 */
export const CLUSTER_HOST_GATEWAY = 'host.k3d.internal';

export interface ServiceOptions {
  env?: NodeJS.ProcessEnv;
  /** Image names by service (a team's mirror), overridden in turn by TWIN_IMAGE_<NAME>. */
  images?: Partial<Record<ContainerName, string>>;
}

export interface Endpoint {
  /** host:port for the scenario (this machine). */
  host: string;
  port: number;
  /** host:port for pods in the k3d cluster. */
  fromCluster: string;
}

export function endpointOf(c: StartedTestContainer, containerPort: number): Endpoint {
  const port = c.getMappedPort(containerPort);
  return { host: c.getHost(), port, fromCluster: `${CLUSTER_HOST_GATEWAY}:${port}` };
}

/** LocalStack (pinned; LOCALSTACK_AUTH_TOKEN passed through) with the services the systems' Terraform uses. */
export function localstackContainer(options: ServiceOptions = {}): LocalstackContainer {
  const image = imageFor('localstack', options.env, options.images);
  return new LocalstackContainer(image).withEnvironment({
    ...localstackEnvironment(image, options.env),
    SERVICES: 's3,dynamodb,kinesis,sts,sqs,iam',
  });
}

export function kafkaContainer(options: ServiceOptions = {}): KafkaContainer {
  return new KafkaContainer(imageFor('kafka', options.env, options.images));
}

export interface PostgresSettings {
  database: string;
  username: string;
  password: string;
}

export const DEFAULT_POSTGRES: PostgresSettings = {
  database: 'app',
  username: 'app',
  password: 'app-password',
};

/** Postgres through @testcontainers/postgresql: POSTGRES_DB/USER/PASSWORD, health check by pg_isready. */
export function postgresContainer(
  options: ServiceOptions & { settings?: PostgresSettings } = {},
): PostgreSqlContainer {
  const s = options.settings ?? DEFAULT_POSTGRES;
  return new PostgreSqlContainer(imageFor('postgres', options.env, options.images))
    .withDatabase(s.database)
    .withUsername(s.username)
    .withPassword(s.password);
}

export function postgresUrl(c: StartedPostgreSqlContainer): string {
  return c.getConnectionUri();
}

export function redisContainer(options: ServiceOptions & { password?: string } = {}): RedisContainer {
  const c = new RedisContainer(imageFor('redis', options.env, options.images));
  return options.password ? c.withPassword(options.password) : c;
}

export function redisEndpoint(c: StartedRedisContainer): Endpoint {
  return endpointOf(c, 6379);
}

export { terraformApplyCommands } from './terraform.ts';
