import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../../kube/object.ts';
import { ContainerConfigError } from '../../../../twin/kubelet/container-environment.ts';
import { containerStartScript } from '../../../../twin/kubelet/sandbox/container-start-script.ts';
import { podHostsFile, podResolvConf } from '../../../../twin/kubelet/sandbox/pod-etc-files.ts';
import { userspec } from '../../../../twin/kubelet/sandbox/sandboxed-container.ts';
import { claimDirectory, volumeMounts } from '../../../../twin/kubelet/sandbox/volume-sources.ts';

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

  it('volumes: ConfigMap files read-only with their modes, emptyDir for the pod’s lifetime, claims by name', () => {
    const podsDir = mkdtempSync(path.join(tmpdir(), 'volumes-'));
    const podDir = path.join(podsDir, 'data-services_redis-0');
    const objects: KubeObject[] = [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'scripts', namespace: 'data-services' },
        data: { 'start.sh': 'echo hi\n', other: 'x' },
      },
    ];
    const store = {
      get: (ref: any) => objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name),
    };
    const p = pod({
      volumes: [
        {
          name: 'scripts',
          configMap: { name: 'scripts', defaultMode: 0o755, items: [{ key: 'start.sh', path: 'start.sh' }] },
        },
        { name: 'scratch', emptyDir: {} },
        { name: 'data', persistentVolumeClaim: { claimName: 'data-redis-0' } },
      ],
    });
    const mounts = volumeMounts(
      { pod: p, store, podDir, podsDir },
      {
        volumeMounts: [
          { name: 'scripts', mountPath: '/scripts' },
          { name: 'scratch', mountPath: '/tmp/x' },
          { name: 'data', mountPath: '/data' },
        ],
      },
    );
    expect(mounts.map((m) => [m.target, m.readOnly, m.file])).toEqual([
      ['/scripts', true, false],
      ['/tmp/x', false, false],
      ['/data', false, false],
    ]);
    expect(readFileSync(path.join(mounts[0]!.source, 'start.sh'), 'utf8')).toBe('echo hi\n');
    expect(statSync(path.join(mounts[0]!.source, 'start.sh')).mode & 0o777).toBe(0o755);
    expect(mounts[2]!.source).toBe(claimDirectory(podsDir, 'data-services', 'data-redis-0'));
    expect(statSync(mounts[1]!.source).mode & 0o777).toBe(0o777);
    // A recreated pod (new uid) gets a new emptyDir; the claim is the same directory.
    const again = volumeMounts(
      { pod: { ...p, metadata: { ...p.metadata, uid: 'u2' } }, store, podDir, podsDir },
      {
        volumeMounts: [
          { name: 'scratch', mountPath: '/tmp/x' },
          { name: 'data', mountPath: '/data' },
        ],
      },
    );
    expect(again[0]!.source).not.toBe(mounts[1]!.source);
    expect(again[1]!.source).toBe(mounts[2]!.source);
    expect(() =>
      volumeMounts(
        { pod: pod({ volumes: [{ name: 'v', configMap: { name: 'missing' } }] }), store, podDir, podsDir },
        {
          volumeMounts: [{ name: 'v', mountPath: '/v' }],
        },
      ),
    ).toThrow(ContainerConfigError);
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
