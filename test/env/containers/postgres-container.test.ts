import type { StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresContainer, postgresUrl } from '../../../env/containers/services.ts';
import { dockerSkipReason, LOCAL_IMAGES } from './docker-available.ts';

const skip = dockerSkipReason(LOCAL_IMAGES.postgres);

describe.skipIf(skip)(
  `Postgres through @testcontainers/postgresql on ${LOCAL_IMAGES.postgres}${skip ? ` (${skip})` : ''}`,
  () => {
    let container: StartedPostgreSqlContainer;

    beforeAll(async () => {
      container = await postgresContainer({
        images: { postgres: LOCAL_IMAGES.postgres },
        settings: { database: 'orders', username: 'shop', password: 's3cret' },
      })
        .withEnvironment({ PGDATA: '/var/lib/postgresql/data/pgdata' })
        .start();
    }, 180_000);

    afterAll(async () => {
      await container?.stop();
    }, 60_000);

    it('honours POSTGRES_USER / POSTGRES_DB / POSTGRES_PASSWORD and PGDATA, and is reachable from the host', async () => {
      const client = new pg.Client({ connectionString: postgresUrl(container) });
      await client.connect();
      try {
        const r = await client.query(
          "SELECT current_user AS u, current_database() AS d, current_setting('data_directory') AS dir, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su",
        );
        expect(r.rows[0]).toEqual({
          u: 'shop',
          d: 'orders',
          dir: '/var/lib/postgresql/data/pgdata',
          su: true,
        });
        await client.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
        await client.query("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
        expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(2);
      } finally {
        await client.end();
      }
    });

    it('refuses a wrong password (scram-sha-256 for connections from outside)', async () => {
      const url = new URL(postgresUrl(container));
      url.password = 'wrong';
      const client = new pg.Client({ connectionString: url.toString() });
      await expect(client.connect()).rejects.toThrow(/password authentication failed for user "shop"/);
    });
  },
);
