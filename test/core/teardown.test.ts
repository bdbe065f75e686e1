import { describe, expect, it } from 'vitest';
import { TeardownStack } from '../../core/teardown.ts';

describe('TeardownStack', () => {
  it('undoes the steps newest first, each once, and every one even when one fails', async () => {
    const done: string[] = [];
    const log: string[] = [];
    const stack = new TeardownStack((m) => log.push(m));
    stack.defer('network', () => done.push('network'));
    stack.defer('kubelet', () => {
      done.push('kubelet');
      throw new Error('EPERM');
    });
    stack.defer('controllers', async () => {
      done.push('controllers');
    });
    const err = await stack.unwind().catch((e) => e);
    expect(done).toEqual(['controllers', 'kubelet', 'network']);
    expect(err.message).toBe('EPERM');
    expect(log).toEqual(['teardown: kubelet failed: EPERM']);
    await stack.unwind().catch(() => {});
    expect(done).toHaveLength(3);
  });

  it('with await using, unwinds what had started when the scope throws', async () => {
    const done: string[] = [];
    await expect(
      (async () => {
        await using stack = new TeardownStack();
        stack.defer('edge', () => done.push('edge'));
        stack.defer('twin', () => done.push('twin'));
        throw new Error('boot failed');
      })(),
    ).rejects.toThrow('boot failed');
    expect(done).toEqual(['twin', 'edge']);
  });

  it('drops an entry whose step was undone otherwise, and adopts disposables', async () => {
    const done: string[] = [];
    const stack = new TeardownStack();
    const drop = stack.defer('fault node-1', () => done.push('node-1 back'));
    stack.adopt('env', { [Symbol.asyncDispose]: async () => void done.push('env down') });
    drop();
    expect(stack.pending).toEqual(['env']);
    await stack.unwind();
    expect(done).toEqual(['env down']);
  });
});
