import path from 'node:path';
import { readDockerfile } from '../../system/dockerfile.ts';
import { REPO_ROOT } from '../../system/repo-root.ts';
import { findBinary } from '../../twin/data/binaries.ts';
import { findPostgres } from '../../twin/data/postgres/postgres-install.ts';
import { missingPackages } from '../../twin/kubelet/sandbox/debian-packages.ts';
import { sandboxUnavailable } from '../../twin/kubelet/sandbox/sandbox-requirements.ts';

/** The images the data scenarios run live, by the Dockerfile their bindings name. */
const IMAGES = {
  redis: 'docker/redis/Dockerfile',
  'redis-cluster': 'docker/opstree-redis/Dockerfile',
  'rust-runtime': 'docker/rust-runtime/Dockerfile',
} as const;

/**
 * Why a scenario that runs live data services cannot run here (a missing program and the Debian
 * package that provides it, or what the container sandbox needs), or undefined when it can.
 * `redis`: the official redis image (Sentinel); `redis-cluster`: the OT redis-operator image;
 * `postgres`: the PostgreSQL server tools of the CloudNativePG instance manager; `pgbouncer`: PgBouncer
 * of the CloudNativePG Pooler; `nats`: Debian's nats-server for the nats image (OpenFaaS's queue);
 * `rust-runtime`: lambda-microservice's Rust function image, built with Debian's rustc.
 */
export function missingDataServices(
  need: Array<'redis' | 'redis-cluster' | 'rust-runtime' | 'postgres' | 'pgbouncer' | 'nats'>,
): string | undefined {
  const missing: string[] = [];
  const images = need.filter((n): n is keyof typeof IMAGES => n in IMAGES);
  if (images.length) {
    const why = sandboxUnavailable();
    if (why) return why;
    const packages = images.flatMap((n) => readDockerfile(path.join(REPO_ROOT, IMAGES[n])).packages);
    const absent = missingPackages([...new Set(packages)]);
    if (absent.length) missing.push(`the Debian packages ${absent.join(', ')}`);
  }
  if (need.includes('postgres')) {
    try {
      findPostgres(['postgres', 'initdb', 'pg_basebackup', 'pg_rewind', 'pg_controldata']);
    } catch {
      missing.push('PostgreSQL server binaries with pg_basebackup and pg_rewind (Debian package postgresql)');
    }
  }
  if (need.includes('pgbouncer') && !findBinary({ name: 'pgbouncer', dirs: ['/usr/sbin'] }))
    missing.push('pgbouncer (Debian package pgbouncer)');
  if (need.includes('nats') && !findBinary({ name: 'nats-server', dirs: ['/usr/sbin'] }))
    missing.push('nats-server (Debian package nats-server)');
  return missing.length ? `needs ${missing.join(', ')}: not found` : undefined;
}
