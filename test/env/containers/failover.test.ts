import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  GenericContainer,
  Network,
  type StartedNetwork,
  type StartedTestContainer,
  Wait,
} from 'testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerSkipReason, LOCAL_IMAGES } from './docker-available.ts';

const skipRedis = dockerSkipReason(LOCAL_IMAGES.redis);
const skipPg = dockerSkipReason(LOCAL_IMAGES.postgres);

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const started: (StartedTestContainer | StartedNetwork)[] = [];
afterAll(async () => {
  for (const c of started.reverse()) await c.stop().catch(() => {});
}, 120_000);

describe.skipIf(skipRedis)(
  `Redis Sentinel failover in containers (${LOCAL_IMAGES.redis})${skipRedis ? ` (${skipRedis})` : ''}`,
  () => {
    it('three sentinels promote the replica after the master container stops; acknowledged writes survive', async () => {
      const net = await new Network().start();
      started.push(net);
      const redis = (alias: string, ...args: string[]) =>
        new GenericContainer(LOCAL_IMAGES.redis)
          .withNetwork(net)
          .withNetworkAliases(alias)
          .withExposedPorts(6379)
          .withCommand(['redis-server', ...args])
          .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
          .start();
      const master = await redis('redis-master', '--appendonly', 'yes');
      started.push(master);
      const masterIp = master.getIpAddress(net.getName());
      const replica = await redis('redis-replica', '--replicaof', masterIp, '6379');
      started.push(replica);
      const conf = [
        'port 26379',
        `sentinel monitor mymaster ${masterIp} 6379 2`,
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 5000',
      ].join('\\n');
      const sentinels: StartedTestContainer[] = [];
      for (let i = 1; i <= 3; i++) {
        const s = await new GenericContainer(LOCAL_IMAGES.redis)
          .withNetwork(net)
          .withExposedPorts(26379)
          .withCommand([
            'sh',
            '-c',
            `printf '${conf}\\n' > /data/sentinel.conf && exec redis-server /data/sentinel.conf --sentinel`,
          ])
          .withWaitStrategy(Wait.forLogMessage('+monitor master mymaster'))
          .start();
        started.push(s);
        sentinels.push(s);
      }
      const sentinel = new Redis({
        host: sentinels[0]!.getHost(),
        port: sentinels[0]!.getMappedPort(26379),
        lazyConnect: true,
      });
      await sentinel.connect();
      const writer = new Redis({
        host: master.getHost(),
        port: master.getMappedPort(6379),
        lazyConnect: true,
      });
      await writer.connect();
      try {
        // Every sentinel knows the replica and the others before the master goes.
        await until('sentinels to see the replica and each other', 30_000, async () => {
          const m = (await sentinel.call('SENTINEL', 'MASTER', 'mymaster')) as string[];
          const f = (k: string) => Number(m[m.indexOf(k) + 1]);
          return f('num-slaves') === 1 && f('num-other-sentinels') === 2 ? true : undefined;
        });
        for (let i = 0; i < 100; i++) await writer.set(`k${i}`, String(i));
        // WAIT: the writes are acknowledged by the replica before the master is lost.
        expect(await writer.wait(1, 5000)).toBe(1);
        writer.disconnect();
        const t0 = Date.now();
        await master.stop();
        const promoted = await until('the sentinels to name a new master', 30_000, async () => {
          const [ip] = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[];
          return ip && ip !== masterIp ? ip : undefined;
        });
        const failoverMs = Date.now() - t0;
        expect(promoted).toBe(replica.getIpAddress(net.getName()));
        const newMaster = new Redis({
          host: replica.getHost(),
          port: replica.getMappedPort(6379),
          lazyConnect: true,
        });
        await newMaster.connect();
        try {
          expect(await newMaster.call('ROLE').then((r) => (r as string[])[0])).toBe('master');
          expect(await newMaster.dbsize()).toBe(100);
          await newMaster.set('after', 'failover');
          expect(await newMaster.get('after')).toBe('failover');
        } finally {
          newMaster.disconnect();
        }
        // down-after-milliseconds 1000 + election: seconds, well within the 5 s failover timeout.
        expect(failoverMs).toBeGreaterThan(1000);
        console.log(`redis sentinel failover: new master after ${failoverMs} ms`);
      } finally {
        sentinel.disconnect();
      }
    }, 180_000);
  },
);

describe.skipIf(skipPg)(
  `Postgres primary/standby promotion in containers (${LOCAL_IMAGES.postgres})${skipPg ? ` (${skipPg})` : ''}`,
  () => {
    it('a streaming standby cloned with pg_basebackup is promoted after the primary stops, with every replicated row', async () => {
      const net = await new Network().start();
      started.push(net);
      const primary: StartedPostgreSqlContainer = await new PostgreSqlContainer(LOCAL_IMAGES.postgres)
        .withNetwork(net)
        .withNetworkAliases('pg-primary')
        .withDatabase('app')
        .withUsername('app')
        .withPassword('app-password')
        .withCommand(['postgres', '-c', 'wal_level=replica', '-c', 'max_wal_senders=5'])
        .withCopyContentToContainer([
          {
            target: '/docker-entrypoint-initdb.d/10-replication.sh',
            content: [
              // As the image's documentation writes init scripts: psql as POSTGRES_USER (the OS user
              // postgres has no role when POSTGRES_USER is another).
              'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -c "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD \'rep\'"',
              'echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"',
              '',
            ].join('\n'),
          },
        ])
        .start();
      started.push(primary);
      const standby = await new GenericContainer(LOCAL_IMAGES.postgres)
        .withNetwork(net)
        .withUser('postgres')
        .withEnvironment({ PGPASSWORD: 'rep', PGDATA: '/var/lib/postgresql/data/standby' })
        .withExposedPorts(5432)
        .withEntrypoint([
          'bash',
          '-c',
          'until pg_basebackup -h pg-primary -U replicator -D "$PGDATA" -R -X stream -c fast; do sleep 1; done; chmod 0700 "$PGDATA"; exec postgres -c hot_standby=on',
        ])
        .withWaitStrategy(Wait.forLogMessage('database system is ready to accept read-only connections'))
        .withStartupTimeout(120_000)
        .start();
      started.push(standby);
      const url = (c: StartedTestContainer) =>
        `postgres://app:app-password@${c.getHost()}:${c.getMappedPort(5432)}/app`;
      const p = new pg.Client({ connectionString: url(primary) });
      await p.connect();
      await p.query('CREATE TABLE orders (id int PRIMARY KEY)');
      await p.query('INSERT INTO orders SELECT generate_series(1, 500)');
      const lsn = (await p.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l as string;
      await p.end();
      const s = new pg.Client({ connectionString: url(standby) });
      await s.connect();
      try {
        expect((await s.query('SELECT pg_is_in_recovery() AS r')).rows[0].r).toBe(true);
        await until("the standby to replay the primary's WAL", 30_000, async () =>
          (await s.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn])).rows[0].ok
            ? true
            : undefined,
        );
        await expect(s.query('INSERT INTO orders VALUES (0)')).rejects.toThrow(/read-only transaction/);
        await primary.stop();
        const t0 = Date.now();
        const promote = await standby.exec([
          'pg_ctl',
          'promote',
          '-w',
          '-D',
          '/var/lib/postgresql/data/standby',
        ]);
        expect(promote.exitCode, promote.output).toBe(0);
        await until('the promoted standby to accept writes', 30_000, async () =>
          (await s.query('SELECT pg_is_in_recovery() AS r')).rows[0].r === false ? true : undefined,
        );
        console.log(`postgres promotion: writable after ${Date.now() - t0} ms`);
        await s.query('INSERT INTO orders VALUES (501)');
        expect((await s.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(501);
      } finally {
        await s.end();
      }
    }, 240_000);
  },
);
