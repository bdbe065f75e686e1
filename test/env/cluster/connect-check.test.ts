import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONNECT_PROBE_SCRIPT,
  connectCheckArgv,
  connectOutcome,
} from '../../../env/cluster/connect-check.ts';
import { findBinary } from '../../../twin/data/binaries.ts';
import { claimAddressBlock } from '../../../twin/network/address-allocator.ts';
import { applyNft, deleteTable, nftAvailable, tableName } from '../../../twin/network/nftables.ts';

const run = promisify(execFile);

describe('cluster (k3d, an existing cluster): env.net.canConnect as kubectl exec of a connection probe', () => {
  it('runs the probe in the source pod with the target address, port and whole seconds', () => {
    expect(
      connectCheckArgv({
        kubeconfig: '/run/k3d/kubeconfig',
        from: { namespace: 'production', pod: 'api-7d9-x' },
        host: '10.42.1.7',
        port: 5432,
        timeoutMs: 2500,
      }),
    ).toEqual([
      'kubectl',
      '--kubeconfig',
      '/run/k3d/kubeconfig',
      'exec',
      '--namespace',
      'production',
      'api-7d9-x',
      '--',
      'sh',
      '-c',
      CONNECT_PROBE_SCRIPT,
      'probe',
      '10.42.1.7',
      '5432',
      '3',
    ]);
  });

  it('reads the outcome the probe prints; an image without a way to connect is an error saying so', () => {
    expect(connectOutcome('connected\n', 'x')).toBe('connected');
    expect(connectOutcome('timed-out', 'x')).toBe('timed-out');
    expect(connectOutcome('refused\n', 'x')).toBe('refused');
    expect(() => connectOutcome('no-probe\n', 'Pod a/b → Pod c/d')).toThrow(
      /Pod a\/b → Pod c\/d: the source pod's image has neither node, bash with timeout, nor nc/,
    );
  });
});

/** The probe script itself, run here with sh: each way an image may connect, forced through a PATH of links. */
describe('the connection probe script, run with sh', () => {
  const nft = nftAvailable();
  const block = claimAddressBlock();
  const net = `127.10.${block.first}`;
  const table = tableName(block.index);
  let server: Server;
  let dir: string;
  const tools: Record<string, string | undefined> = {
    node: process.execPath,
    bash: findBinary({ name: 'bash' }),
    timeout: findBinary({ name: 'timeout' }),
    nc: findBinary({ name: 'nc' }),
    date: findBinary({ name: 'date' }),
    sh: findBinary({ name: 'sh' }),
    busybox: findBinary({ name: 'busybox' }),
  };

  beforeAll(async () => {
    server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(17001, `${net}.3`, r));
    dir = mkdtempSync(path.join(tmpdir(), 'twin-probe-'));
    const n = await nft;
    // A destination whose SYNs are dropped, as a denied connection's are.
    if (n.ok)
      await applyNft(
        n.nft,
        `table ip ${table} {\n  chain output {\n    type filter hook output priority filter; policy accept;\n    ip daddr ${net}.9 tcp dport 17001 drop\n  }\n}\n`,
      );
  });

  afterAll(async () => {
    const n = await nft;
    if (n.ok) await deleteTable(n.nft, table);
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
    block.release();
  });

  /**
   * A PATH holding only `names` (and sh), so the probe takes the branch those tools allow;
   * `busybox-timeout` is BusyBox's timeout applet (as in Alpine images such as agnhost).
   */
  function pathWith(names: string[]): string {
    const d = mkdtempSync(path.join(dir, 'bin-'));
    for (const name of ['sh', ...names]) {
      if (name === 'busybox-timeout') symlinkSync(tools['busybox']!, path.join(d, 'timeout'));
      else symlinkSync(tools[name]!, path.join(d, name));
    }
    return d;
  }

  async function probe(host: string, port: number, names: string[]): Promise<string> {
    const { stdout } = await run(
      tools['sh']!,
      ['-c', CONNECT_PROBE_SCRIPT, 'probe', host, String(port), '1'],
      {
        env: { PATH: pathWith(names) },
        timeout: 20_000,
      },
    );
    return stdout.trim();
  }

  it('with node: connected, refused', async () => {
    expect(await probe(`${net}.3`, 17001, ['node'])).toBe('connected');
    expect(await probe(`${net}.3`, 17002, ['node'])).toBe('refused');
  });

  it.skipIf(!tools['bash'] || !tools['timeout'])('with bash and timeout: connected, refused', async () => {
    expect(await probe(`${net}.3`, 17001, ['bash', 'timeout'])).toBe('connected');
    expect(await probe(`${net}.3`, 17002, ['bash', 'timeout'])).toBe('refused');
  });

  it.skipIf(!tools['nc'])('with nc (needs netcat: not installed)', async () => {
    expect(await probe(`${net}.3`, 17001, ['nc', 'date'])).toBe('connected');
    expect(await probe(`${net}.3`, 17002, ['nc', 'date'])).toBe('refused');
  });

  it('with none of them: no-probe', async () => {
    expect(await probe(`${net}.3`, 17001, [])).toBe('no-probe');
  });

  it('a dropped connection times out with node and with bash (needs root and nftables to drop it)', async (ctx) => {
    const n = await nft;
    if (!n.ok) ctx.skip(`needs root and nftables: ${n.reason}`);
    expect(await probe(`${net}.9`, 17001, ['node'])).toBe('timed-out');
    if (tools['bash'] && tools['timeout'])
      expect(await probe(`${net}.9`, 17001, ['bash', 'timeout'])).toBe('timed-out');
  });

  it.skipIf(!tools['bash'] || !tools['busybox'])(
    "with bash and BusyBox's timeout (Alpine images such as agnhost; needs busybox): connected, refused, timed out",
    async (ctx) => {
      expect(await probe(`${net}.3`, 17001, ['bash', 'busybox-timeout'])).toBe('connected');
      expect(await probe(`${net}.3`, 17002, ['bash', 'busybox-timeout'])).toBe('refused');
      const n = await nft;
      if (!n.ok) ctx.skip(`the timed-out branch needs root and nftables to drop a SYN: ${n.reason}`);
      expect(await probe(`${net}.9`, 17001, ['bash', 'busybox-timeout'])).toBe('timed-out');
    },
  );
});
