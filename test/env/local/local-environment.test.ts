import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTwinError } from '../../../core/errors.ts';
import { localEnvironment } from '../../../env/local/local-environment.ts';

const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'twin-local-env-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!hasKustomize)('localEnvironment.up (needs kubectl or kustomize on the PATH)', () => {
  it('checks manifests, topology and bindings before the AWS edge starts', async () => {
    const lines: string[] = [];
    const workDir = path.join(scratch, 'work');
    const err = await localEnvironment
      .up({
        system: path.resolve('test/fixtures/systems/bad-with-terraform'),
        workDir,
        progress: (m) => lines.push(m),
      })
      .catch((e) => e);
    expect(isTwinError(err, 'TWIN_MANIFEST_INVALID')).toBe(true);
    expect(err.message).toMatch(/Deployment shop\/cart: spec.selector: Required value/);
    expect(lines.join('\n')).not.toContain('AWS edge');
    expect(existsSync(path.join(workDir, 'aws'))).toBe(false);
  }, 60_000);

  it('an aborted bring-up undoes what had started and rejects with TWIN_ABORTED', async () => {
    const ac = new AbortController();
    const lines: string[] = [];
    const up = localEnvironment.up({
      system: path.resolve('test/fixtures/systems/good'),
      workDir: path.join(scratch, 'aborted'),
      signal: ac.signal,
      progress: (m) => {
        lines.push(m);
        if (m.includes('applying')) ac.abort(new Error('Ctrl-C'));
      },
    });
    const err = await up.catch((e) => e);
    expect(isTwinError(err, 'TWIN_ABORTED')).toBe(true);
    expect(lines.some((l) => l.includes('applying'))).toBe(true);
  }, 60_000);
});
