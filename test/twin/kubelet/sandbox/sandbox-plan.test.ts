import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../../kube/object.ts';
import { containerStartScript } from '../../../../twin/kubelet/sandbox/container-start-script.ts';
import { podHostsFile, podResolvConf } from '../../../../twin/kubelet/sandbox/pod-etc-files.ts';
import { userspec } from '../../../../twin/kubelet/sandbox/sandboxed-container.ts';
import { prepareVolumeOwnership } from '../../../../twin/kubelet/sandbox/volume-ownership.ts';

const pod = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'redis-0', namespace: 'data-services', uid: 'u1' },
  spec: { hostname: 'redis-0', subdomain: 'redis-headless', containers: [], ...spec },
});

describe('what a live container gets from its pod', () => {
  it('/etc/hosts as the kubelet writes it: localhost, the pod under its FQDN, host aliases', () => {
    const hosts = podHostsFile(
      pod({ hostAliases: [{ ip: '10.0.0.9', hostnames: ['a', 'b'] }] }),
      '127.10.1.5',
    );
    expect(hosts).toContain('127.0.0.1\tlocalhost\n');
    expect(hosts).toContain('127.10.1.5\tredis-0.redis-headless.data-services.svc.cluster.local\tredis-0\n');
    expect(hosts).toContain('# Entries added by HostAliases.\n10.0.0.9\ta\tb\n');
    expect(podHostsFile(pod({ hostname: undefined, subdomain: undefined }), '127.10.1.5')).toContain(
      '127.10.1.5\tredis-0\n',
    );
  });

  it('resolv.conf of ClusterFirst: the DNS server, the namespace search list, ndots:5', () => {
    expect(podResolvConf(pod(), '127.96.0.10')).toBe(
      'search data-services.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.96.0.10\noptions ndots:5\n',
    );
  });

  it('the user: securityContext over the image USER; runAsNonRoot refused with the kubelet’s messages', () => {
    expect(userspec({ user: undefined }, pod(), { name: 'c' }).spec).toBe('0:0');
    expect(userspec({ user: 'redis' }, pod(), { name: 'c' }).spec).toBe('redis');
    expect(userspec({ user: '1000:1000' }, pod(), { name: 'c' }).spec).toBe('1000:1000');
    expect(
      userspec({ user: 'redis' }, pod({ securityContext: { runAsUser: 999, runAsGroup: 7, fsGroup: 5 } }), {
        name: 'c',
      }),
    ).toMatchObject({ spec: '999:7', uid: 999, groups: [5] });
    expect(() =>
      userspec({ user: undefined }, pod(), { name: 'c', securityContext: { runAsNonRoot: true } }),
    ).toThrow(
      /container has runAsNonRoot and image will run as root \(pod: "redis-0_data-services\(u1\)", container: c\)/,
    );
    expect(() =>
      userspec({ user: 'redis' }, pod({ securityContext: { runAsNonRoot: true } }), { name: 'c' }),
    ).toThrow(
      /container has runAsNonRoot and image has non-numeric user \(redis\), cannot verify user is non-root/,
    );
  });

  it('volumes: an emptyDir is world-writable; fsGroup gives writable volumes to the group, setgid', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'volumes-'));
    const emptyDirs = path.join(dir, 'pod', 'volumes', 'empty-dir');
    const scratch = path.join(emptyDirs, 'scratch');
    const pv = path.join(dir, 'volumes', 'pv-1');
    const cm = path.join(dir, 'pod', 'volumes', 'configmap', 'cfg');
    mkdirSync(pv, { recursive: true });
    writeFileSync(path.join(pv, 'appendonly.aof'), 'x');
    mkdirSync(cm, { recursive: true });
    prepareVolumeOwnership(
      [
        { mountPath: '/tmp/x', path: scratch },
        { mountPath: '/data', path: pv },
        { mountPath: '/cfg', path: cm, readOnly: true },
      ],
      emptyDirs,
      1234,
    );
    expect(statSync(scratch).mode & 0o7777).toBe(0o2777);
    expect(statSync(pv).gid).toBe(1234);
    expect(statSync(pv).mode & 0o2070).toBe(0o2070);
    expect(statSync(path.join(pv, 'appendonly.aof')).mode & 0o060).toBe(0o060);
    expect(statSync(cm).gid).not.toBe(1234);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the start script mounts parents before children and runs the command as given, from the working directory', () => {
    const script = containerStartScript({
      layer: '/c/layer',
      upper: '/c/upper',
      work: '/c/work',
      merged: '/c/merged',
      tmp: '/c/tmp',
      etc: { hosts: '/p/hosts', resolvConf: '/p/resolv.conf', hostname: '/p/hostname' },
      volumes: [
        { source: '/v/ext', target: '/etc/redis/external.conf.d', readOnly: true, file: false },
        { source: '/v/conf', target: '/etc/redis', readOnly: false, file: false },
      ],
      hostname: 'redis-0',
      userspec: 'redis',
      groups: [],
      workingDir: '/data',
      argv: ['sh', '/scripts/start.sh', "it's"],
    });
    expect(script.indexOf('/c/merged/etc/redis\n')).toBeLessThan(
      script.indexOf('/c/merged/etc/redis/external.conf.d\n'),
    );
    expect(script).toContain('mount -o remount,bind,ro /c/merged/etc/redis/external.conf.d');
    expect(script).toContain('mount --bind /p/hosts /c/merged/etc/hosts');
    expect(script.trim().split('\n').at(-1)).toBe(
      "exec chroot --userspec=redis /c/merged /usr/bin/env -C /data -- sh /scripts/start.sh 'it'\\''s'",
    );
  });
});
