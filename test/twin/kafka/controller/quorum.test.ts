/**
 * The metadata quorum (KRaft's Raft) with an in-memory transport: one leader per epoch, commits on a
 * majority, a new leader after the old one is gone with every committed record kept, a leader cut off
 * from the majority resigns and cannot commit, a restarted voter replays its log from its directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RpcClient } from '../../../../twin/kafka/controller/controller-rpc.ts';
import type { MetadataRecord } from '../../../../twin/kafka/controller/metadata-records.ts';
import { Quorum } from '../../../../twin/kafka/controller/quorum.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

class Net {
  readonly nodes = new Map<number, Quorum>();
  readonly applied = new Map<number, MetadataRecord[]>();
  readonly cut = new Set<number>();
  readonly dir = mkdtempSync(path.join(tmpdir(), 'twin-quorum-'));

  peers(from: number): Map<number, RpcClient> {
    const m = new Map<number, RpcClient>();
    for (const to of [1, 2, 3])
      if (to !== from)
        m.set(to, {
          call: async (body: object) => {
            await sleep(1);
            const target = this.nodes.get(to);
            if (!target || this.cut.has(from) || this.cut.has(to)) throw new Error('unreachable');
            return target.handle(body);
          },
        } as unknown as RpcClient);
    return m;
  }

  start(id: number): Quorum {
    this.applied.set(id, []);
    const q = new Quorum({
      nodeId: id,
      voters: [1, 2, 3],
      dir: path.join(this.dir, String(id)),
      peers: this.peers(id),
      fetchTimeoutMs: 400,
      electionTimeoutMs: 150,
      apply: (e) => this.applied.get(id)!.push(e.record),
      log: () => {},
    });
    this.nodes.set(id, q);
    q.start();
    return q;
  }

  stop(id: number): void {
    this.nodes.get(id)?.stop();
    this.nodes.delete(id);
  }

  leaders(): Quorum[] {
    return [...this.nodes.values()].filter((q) => q.role === 'leader');
  }

  close(): void {
    for (const id of [...this.nodes.keys()]) this.stop(id);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const topic = (name: string): MetadataRecord => ({ type: 'Topic', name, topicId: name.padEnd(32, '0') });
const names = (rs: MetadataRecord[]) =>
  rs.filter((r) => r.type === 'Topic').map((r) => (r as { name: string }).name);

describe('metadata quorum', () => {
  let net: Net;
  afterEach(() => net?.close());

  it('elects one leader, commits on a majority and applies the same records in the same order everywhere', async () => {
    net = new Net();
    for (const id of [1, 2, 3]) net.start(id);
    const leader = await until('a leader', () => (net.leaders().length === 1 ? net.leaders()[0] : undefined));
    await leader.append([topic('a'), topic('b')]);
    await leader.append([topic('c')]);
    await until('every voter applied a, b, c', () =>
      [1, 2, 3].every((id) => names(net.applied.get(id)!).join() === 'a,b,c'),
    );
    expect(new Set([...net.nodes.values()].map((q) => q.epoch)).size).toBe(1);
  });

  it('elects a new leader when the leader is gone, keeping every committed record', async () => {
    net = new Net();
    for (const id of [1, 2, 3]) net.start(id);
    const first = await until('a leader', () => net.leaders()[0]);
    await first.append([topic('before')]);
    const oldId = [...net.nodes].find(([, q]) => q === first)![0];
    net.stop(oldId);
    const second = await until('a new leader', () => net.leaders()[0]);
    expect(second.epoch).toBeGreaterThan(first.epoch);
    await second.append([topic('after')]);
    const survivors = [1, 2, 3].filter((id) => id !== oldId);
    await until('survivors applied both', () =>
      survivors.every((id) => names(net.applied.get(id)!).join() === 'before,after'),
    );
    // The old leader comes back from its directory and catches up.
    net.start(oldId);
    await until(
      'the restarted voter replayed the log',
      () => names(net.applied.get(oldId)!).join() === 'before,after',
    );
  });

  it('a leader cut off from the majority resigns and cannot commit; the majority goes on', async () => {
    net = new Net();
    for (const id of [1, 2, 3]) net.start(id);
    const first = await until('a leader', () => net.leaders()[0]);
    const oldId = [...net.nodes].find(([, q]) => q === first)![0];
    net.cut.add(oldId);
    let committed = false;
    first.append([topic('lost')]).then(
      () => (committed = true),
      () => {},
    );
    const second = await until('a leader in the majority', () => net.leaders().find((q) => q !== first));
    await until('the isolated leader resigned', () => first.role !== 'leader');
    await second.append([topic('kept')]);
    expect(committed).toBe(false);
    net.cut.delete(oldId);
    await until('the old leader follows and drops its uncommitted record', () =>
      names(net.applied.get(oldId)!).includes('kept'),
    );
    expect(names(net.applied.get(oldId)!)).not.toContain('lost');
  });
});
