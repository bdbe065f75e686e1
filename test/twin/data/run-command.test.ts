import { describe, expect, it } from 'vitest';
import { run } from '../../../twin/data/postgres/postgres-server.ts';

describe('run (the helper that runs initdb, pg_basebackup, …)', () => {
  it('settles on the exit code when the command exits without reading its input', async () => {
    // 1 MiB of input to a command that never reads it: the write fails with EPIPE.
    await expect(run(['sh', '-c', 'exit 0'], { input: 'x'.repeat(1 << 20) })).resolves.toBe('');
    await expect(run(['sh', '-c', 'echo nope >&2; exit 3'], { input: 'x'.repeat(1 << 20) })).rejects.toThrow(
      'sh exited with 3: nope',
    );
  });
});
