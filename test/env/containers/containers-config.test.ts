import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMPOSE_PORTS, composeStack } from '../../../env/containers/compose.ts';
import { imageFor, localstackEnvironment, PINNED_IMAGES } from '../../../env/containers/images.ts';
import { terraformApplyCommands } from '../../../env/containers/services.ts';
import { latencyToxic } from '../../../env/containers/toxiproxy.ts';

const root = path.resolve(import.meta.dirname, '../../..');

describe('container images', () => {
  it('pinned by default; TWIN_IMAGE_<NAME>, then configuration, then a Docker Hub mirror prefix override them', () => {
    expect(imageFor('postgres', {})).toBe('postgres:17.6-bookworm');
    expect(imageFor('postgres', { TWIN_IMAGE_POSTGRES: 'local/postgres:15-bookworm' })).toBe(
      'local/postgres:15-bookworm',
    );
    expect(imageFor('redis', {}, { redis: 'mirror.corp/redis:7' })).toBe('mirror.corp/redis:7');
    expect(imageFor('kafka', { TWIN_IMAGE_MIRROR: 'mirror.corp/hub/' })).toBe(
      'mirror.corp/hub/confluentinc/cp-kafka:7.9.2',
    );
    // ghcr.io names keep their registry.
    expect(imageFor('toxiproxy', { TWIN_IMAGE_MIRROR: 'mirror.corp/hub' })).toBe(
      'ghcr.io/shopify/toxiproxy:2.12.0',
    );
  });

  it('LocalStack: 4.14.0 starts without a token; later tags and latest need LOCALSTACK_AUTH_TOKEN, passed through when set', () => {
    expect(localstackEnvironment('localstack/localstack:4.14.0', {})).toEqual({});
    expect(() => localstackEnvironment('localstack/localstack:4.15.0', {})).toThrow(
      /LocalStack image localstack\/localstack:4\.15\.0 needs LOCALSTACK_AUTH_TOKEN \(tags after 4\.14\.0 do\)/,
    );
    expect(() => localstackEnvironment('localstack/localstack:latest', {})).toThrow(
      /needs LOCALSTACK_AUTH_TOKEN/,
    );
    expect(localstackEnvironment('localstack/localstack:2026.1', { LOCALSTACK_AUTH_TOKEN: 't' })).toEqual({
      LOCALSTACK_AUTH_TOKEN: 't',
    });
    expect(localstackEnvironment('localstack/localstack:4.3.0', { LOCALSTACK_AUTH_TOKEN: 't' })).toEqual({
      LOCALSTACK_AUTH_TOKEN: 't',
    });
  });
});

describe('Terraform on LocalStack', () => {
  it('the same endpoint override as the twin: -var aws_endpoint on the local environment, state in the run', () => {
    expect(
      terraformApplyCommands(
        'infra/ai-platform/terraform/environments/local',
        'http://127.0.0.1:4566',
        '/run/tf',
      ),
    ).toEqual([
      {
        argv: [
          'terraform',
          '-chdir=infra/ai-platform/terraform/environments/local',
          'init',
          '-input=false',
          '-no-color',
        ],
        env: { TF_DATA_DIR: '/run/tf/.terraform', TF_IN_AUTOMATION: '1' },
      },
      {
        argv: [
          'terraform',
          '-chdir=infra/ai-platform/terraform/environments/local',
          'apply',
          '-input=false',
          '-no-color',
          '-auto-approve',
          '-state=/run/tf/terraform.tfstate',
          '-var=aws_endpoint=http://127.0.0.1:4566',
        ],
        env: { TF_DATA_DIR: '/run/tf/.terraform', TF_IN_AUTOMATION: '1' },
      },
    ]);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });

  it('LocalStack, Kafka, Postgres primary + standby, Redis master/replica + 3 sentinels, images pinned as the harness pins them', () => {
    expect(compose.name).toBe('infra-twin');
    expect(Object.keys(compose.services).sort()).toEqual(Object.keys(COMPOSE_PORTS).sort());
    const image = (s: string) => /\$\{[A-Z_]+:-(.+)\}/.exec(compose.services[s].image)![1];
    expect(image('localstack')).toBe(PINNED_IMAGES.localstack);
    expect(image('kafka')).toBe(PINNED_IMAGES.kafka);
    expect(image('postgres-primary')).toBe(PINNED_IMAGES.postgres);
    expect(image('postgres-standby')).toBe(PINNED_IMAGES.postgres);
    expect(image('redis-sentinel-3')).toBe(PINNED_IMAGES.redis);
    for (const [service, port] of Object.entries(COMPOSE_PORTS))
      expect(compose.services[service].ports[0], service).toMatch(new RegExp(`^${port}:`));
  });

  it('a running stack becomes endpoints for the scenario and, through the host gateway, for pods', () => {
    expect(composeStack([])).toBeUndefined();
    const stack = composeStack(['localstack', 'postgres-primary', 'redis-master'])!;
    expect(stack.localstackUrl).toBe('http://127.0.0.1:4566');
    expect(stack.postgresUrl).toBe('postgres://app:app-password@127.0.0.1:5432/app');
    expect(stack.services['redis-master']).toEqual({
      host: '127.0.0.1',
      port: 6379,
      fromCluster: 'host.k3d.internal:6379',
    });
  });
});

describe('Toxiproxy latency', () => {
  it('a latency toxic on the downstream (server → client) of every connection', () => {
    expect(latencyToxic(200, 20)).toEqual({
      name: 'latency-200ms',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 200, jitter: 20 },
    });
  });
});
