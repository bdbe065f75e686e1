import { describe, expect, it } from 'vitest';
import {
  dropSelfReplication,
  followMaster,
  formatOptions,
  hostsToResolve,
  parseOptions,
  planFromArgs,
  substituteHosts,
  withPodDefaults,
} from '../../../twin/data/redis/redis-args.ts';

describe('redis runner arguments', () => {
  it('picks the program as the official image does', () => {
    expect(planFromArgs(['redis-sentinel', '--port', '26379'])).toEqual({
      program: 'redis-sentinel',
      args: ['--port', '26379'],
    });
    expect(planFromArgs(['redis-server', 'x.conf', '--sentinel']).program).toBe('redis-sentinel');
    expect(planFromArgs(['--appendonly', 'yes'])).toEqual({
      program: 'redis-server',
      args: ['--appendonly', 'yes'],
    });
  });

  it('resolves the host names of replicaof and sentinel monitor only', () => {
    const { options, file } = parseOptions([
      '/etc/redis.conf',
      '--replicaof',
      'redis-0.redis-headless',
      '6379',
      '--sentinel',
      'monitor',
      'mymaster',
      'redis-0.redis-headless',
      '6379',
      '2',
      '--maxmemory',
      '6gb',
    ]);
    expect(file).toBe('/etc/redis.conf');
    expect(hostsToResolve(options)).toEqual(['redis-0.redis-headless', 'redis-0.redis-headless']);
    const ips = new Map([['redis-0.redis-headless', '127.10.0.2']]);
    expect(formatOptions(substituteHosts(options, ips))).toEqual([
      '--replicaof',
      '127.10.0.2',
      '6379',
      '--sentinel',
      'monitor',
      'mymaster',
      '127.10.0.2',
      '6379',
      '2',
      '--maxmemory',
      '6gb',
    ]);
  });

  it('binds the pod address, maps dir under the pod, and drops replication of itself', () => {
    const opts = parseOptions([
      '--bind',
      '0.0.0.0',
      '--dir',
      '/bitnami/redis',
      '--replicaof',
      '127.10.0.2',
      '6379',
    ]).options;
    const out = dropSelfReplication(
      withPodDefaults(opts, '127.10.0.2', (p) => `/pods/x${p}`),
      '127.10.0.2',
    );
    expect(formatOptions(out)).toEqual([
      '--bind',
      '127.10.0.2',
      '--dir',
      '/pods/x/bitnami/redis',
      '--protected-mode',
      'no',
    ]);
    const replica = dropSelfReplication(opts, '127.10.0.6');
    expect(replica.find((o) => o[0] === 'replicaof')).toEqual(['replicaof', '127.10.0.2', '6379']);
  });

  it('follows the master the sentinels name, unless it is this pod', () => {
    const opts = [
      ['replicaof', '127.10.0.2', '6379'],
      ['port', '6379'],
    ];
    expect(followMaster(opts, { ip: '127.10.0.7', port: 6379 }, '127.10.0.6')).toEqual([
      ['port', '6379'],
      ['replicaof', '127.10.0.7', '6379'],
    ]);
    expect(followMaster(opts, { ip: '127.10.0.6', port: 6379 }, '127.10.0.6')).toEqual([['port', '6379']]);
    expect(followMaster(opts, undefined, '127.10.0.6')).toBe(opts);
  });
});
