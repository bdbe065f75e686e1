import { findBinary } from '../../twin/data/binaries.ts';
import { findPostgres } from '../../twin/data/postgres/postgres-install.ts';

/**
 * Why a scenario that runs live data services cannot run here (a missing program and the Debian
 * package that provides it), or undefined when it can.
 */
export function missingDataServices(need: Array<'redis' | 'redis-server' | 'postgres'>): string | undefined {
  const missing: string[] = [];
  if (need.includes('redis') || need.includes('redis-server')) {
    // 'redis-server' alone: a Redis Cluster needs no sentinels.
    for (const name of need.includes('redis') ? ['redis-server', 'redis-sentinel'] : ['redis-server'])
      if (!findBinary({ name })) missing.push(`${name} (Debian package ${name})`);
  }
  if (need.includes('postgres')) {
    try {
      findPostgres(['postgres', 'initdb', 'pg_basebackup', 'pg_rewind', 'pg_controldata']);
    } catch {
      missing.push('PostgreSQL server binaries with pg_basebackup and pg_rewind (Debian package postgresql)');
    }
  }
  return missing.length ? `needs ${missing.join(', ')}: not found` : undefined;
}
