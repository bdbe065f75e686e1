import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../../kube/object.ts';
import { readDockerfile } from '../../../../system/dockerfile.ts';
import { REPO_ROOT } from '../../../../system/repo-root.ts';
import { ContainerProcess } from '../../../../twin/kubelet/container-runner.ts';
import { missingPackages } from '../../../../twin/kubelet/sandbox/debian-packages.ts';
import { sandboxUnavailable } from '../../../../twin/kubelet/sandbox/sandbox-requirements.ts';
import { prepareSandboxedContainer } from '../../../../twin/kubelet/sandbox/sandboxed-container.ts';
import { claimAddressBlock } from '../../../../twin/network/address-allocator.ts';
import { DnsServer } from '../../../../twin/network/dns-server.ts';

const image = readDockerfile(path.join(REPO_ROOT, 'docker/redis/Dockerfile'));
const why =
  sandboxUnavailable() ??
  (missingPackages(image.packages).length
    ? `needs the Debian packages ${missingPackages(image.packages).join(', ')}`
    : undefined);

describe.skipIf(why !== undefined)(
  `a live container in the sandbox (redis image)${why ? ` (${why})` : ''}`,
  () => {
    const block = claimAddressBlock();
    const podIp = `127.10.${block.first}.2`;
    const dnsIp = `127.10.${block.first}.1`;
    const dns = new DnsServer((name) =>
      name === 'redis-sentinel.data-services.svc.cluster.local' ? ['127.96.9.9'] : undefined,
    );
    const podsDir = mkdtempSync(path.join(tmpdir(), 'sandbox-test-'));
    chmodSync(podsDir, 0o755);
    const podDir = path.join(podsDir, 'data-services_redis-0');
    // The volumes as the kubelet's volume manager leaves them: a ConfigMap's file, an emptyDir.
    const cfg = path.join(podDir, 'volumes', 'configmap', 'cfg');
    const data = path.join(podDir, 'volumes', 'empty-dir', 'data');
    mkdirSync(cfg, { recursive: true });
    writeFileSync(path.join(cfg, 'a.conf'), 'x\n');
    mkdirSync(data, { recursive: true, mode: 0o777 });
    const mountsOf = (container: any) =>
      (container.volumeMounts ?? []).map((m: any) => ({
        mountPath: m.mountPath,
        path: m.name === 'cfg' ? cfg : data,
        ...(m.name === 'cfg' ? { readOnly: true } : {}),
      }));
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'redis-0', namespace: 'data-services', uid: 'u1' },
      spec: {
        hostname: 'redis-0',
        subdomain: 'redis-headless',
        volumes: [
          { name: 'cfg', configMap: { name: 'cfg' } },
          { name: 'data', emptyDir: {} },
        ],
      },
    };

    async function run(container: any, until: (log: string) => boolean, stopAfter = true) {
      const sb = await prepareSandboxedContainer({
        image,
        pod,
        podIp,
        container,
        env: { GREETING: 'hello' },
        mounts: mountsOf(container),
        podDir,
        containerDir: path.join(podDir, 'containers', container.name),
        cacheDir: path.join(REPO_ROOT, '.twin', 'sandbox'),
        nameserver: dnsIp,
      });
      const logFile = path.join(podDir, `${container.name}.log`);
      rmSync(logFile, { force: true });
      const proc = new ContainerProcess({
        argv: sb.argv,
        env: sb.env,
        cwd: '/',
        logFile,
        stopSignal: sb.stopSignal,
        stopMainProcessOnly: true,
      });
      const deadline = performance.now() + 30_000;
      const log = () => {
        try {
          return readFileSync(logFile, 'utf8');
        } catch {
          return '';
        }
      };
      while (!until(log()) && proc.running && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      if (stopAfter) await proc.stop(5000);
      const exit = await proc.exited;
      return { log: log(), exit };
    }

    beforeAll(async () => {
      await dns.start(dnsIp);
    });
    afterAll(async () => {
      await dns.stop();
      block.release();
      rmSync(podsDir, { recursive: true, force: true });
    });

    it('runs the command as process 1 with the image’s WORKDIR and ENV, the pod’s host name, hosts, DNS and volumes', async () => {
      const script = [
        'echo "pid=$$$$ pwd=$(pwd) host=$(hostname) greeting=$GREETING path=$PATH"',
        'grep redis-0 /etc/hosts',
        'getent hosts redis-sentinel',
        'getent hosts redis-9.redis-headless || echo "redis-9: unknown"',
        'cat /scripts/a.conf; touch /scripts/b 2>&1 || true',
        'touch /data/written && echo data-writable',
        'exit 3',
      ].join('\n');
      const { log, exit } = await run(
        {
          name: 'facts',
          command: ['sh', '-c', script],
          volumeMounts: [
            { name: 'cfg', mountPath: '/scripts' },
            { name: 'data', mountPath: '/data' },
          ],
        },
        () => false,
        false,
      );
      expect(exit.code).toBe(3);
      expect(log).toContain(
        `pid=1 pwd=/data host=redis-0 greeting=hello path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      );
      expect(log).toContain(`${podIp}\tredis-0.redis-headless.data-services.svc.cluster.local\tredis-0`);
      expect(log).toMatch(/127\.96\.9\.9\s+redis-sentinel\.data-services\.svc\.cluster\.local/);
      expect(log).toContain('redis-9: unknown');
      expect(log).toContain('x\n');
      expect(log).toMatch(/touch: cannot touch '\/scripts\/b': Read-only file system/);
      expect(log).toContain('data-writable');
    });

    it('gives programs the pod’s address: listening on any address binds it, and peers see it as the source', async () => {
      const script = [
        'redis-server --port 6390 --daemonize yes --protected-mode no > /dev/null',
        'sleep 1',
        'redis-cli -h 127.0.0.1 -p 6390 client list',
        'redis-cli -h 127.0.0.1 -p 6390 shutdown nosave',
        'echo done',
      ].join('\n');
      const { log } = await run(
        { name: 'addr', command: ['sh', '-c', script] },
        (l) => l.includes('done'),
        false,
      );
      expect(log).toMatch(
        new RegExp(`addr=${podIp.replaceAll('.', '\\.')}:\\d+ laddr=${podIp.replaceAll('.', '\\.')}:6390`),
      );
    });

    it('passes the stop signal to process 1 only and exits with its status', async () => {
      const { log, exit } = await run(
        {
          name: 'stop',
          command: ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; echo ready; while :; do sleep 0.1; done'],
        },
        (l) => l.includes('ready'),
      );
      expect(log).toContain('got TERM');
      expect(exit.code).toBe(0);
    });
  },
);
