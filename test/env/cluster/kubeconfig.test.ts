import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTwinError } from '../../../core/errors.ts';
import { kubeconfigFiles, kubectlArgs, loadClusterTarget } from '../../../env/cluster/kubeconfig.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'twin-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(name: string, contexts: string[], current?: string): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `current-context: ${current ?? '""'}`,
      'clusters:',
      ...contexts.map((c) => `  - name: ${c}\n    cluster:\n      server: https://${c}.example.com:6443`),
      'users:',
      '  - name: u',
      '    user:',
      '      exec:',
      '        apiVersion: client.authentication.k8s.io/v1beta1',
      '        command: aws',
      '        args: [eks, get-token, --cluster-name, staging]',
      'contexts:',
      ...contexts.map((c) => `  - name: ${c}\n    context:\n      cluster: ${c}\n      user: u`),
      '',
    ].join('\n'),
  );
  return file;
}

/** The TwinError a call throws: its code, its message, and whether the CLI exits 2 for it. */
function failure(fn: () => unknown): { code: string; message: string; exit2: boolean } {
  try {
    fn();
  } catch (err) {
    if (!isTwinError(err)) throw err;
    return { code: err.code, message: err.message, exit2: err.isInputError };
  }
  throw new Error('did not throw');
}

describe('cluster environment: which cluster (kubeconfig and context, as kubectl chooses)', () => {
  const staging = kubeconfig('staging.yaml', ['staging', 'prod'], 'staging');

  it('the current context of --kubeconfig, or the one --context names', () => {
    const t = loadClusterTarget({ kubeconfig: staging });
    expect(t).toMatchObject({
      context: 'staging',
      server: 'https://staging.example.com:6443',
      files: [staging],
    });
    expect(t.kc.getCurrentContext()).toBe('staging');
    const p = loadClusterTarget({ kubeconfig: staging, context: 'prod' });
    expect(p).toMatchObject({ context: 'prod', server: 'https://prod.example.com:6443' });
    expect(p.kc.getCurrentContext()).toBe('prod');
    // The exec credential plugin (aws eks get-token) survives into the file kubectl is given.
    expect(p.kc.exportConfig()).toContain('get-token');
    expect(kubectlArgs('/w/kubeconfig', 'prod')).toEqual([
      '--kubeconfig',
      '/w/kubeconfig',
      '--context',
      'prod',
    ]);
  });

  it('a missing --kubeconfig: exit 2 naming the file', () => {
    const missing = path.join(dir, 'nope.yaml');
    const f = failure(() => loadClusterTarget({ kubeconfig: missing }));
    expect(f).toMatchObject({ code: 'TWIN_OPTION_INVALID', exit2: true });
    expect(f.message).toBe(`--kubeconfig: ${missing} does not exist (${missing})`);
  });

  it('an unknown --context: exit 2 naming it and the contexts the file has', () => {
    const f = failure(() => loadClusterTarget({ kubeconfig: staging, context: 'qa' }));
    expect(f).toMatchObject({ code: 'TWIN_OPTION_INVALID', exit2: true });
    expect(f.message).toBe(`--context: context "qa" is not in ${staging} (contexts: staging, prod)`);
  });

  it('no current-context and no --context: exit 2 listing the contexts to choose from', () => {
    const none = kubeconfig('none.yaml', ['a', 'b']);
    const f = failure(() => loadClusterTarget({ kubeconfig: none }));
    expect(f.exit2).toBe(true);
    expect(f.message).toBe(`${none}: no current-context; choose one with --context <name> (contexts: a, b)`);
  });

  it('a file that is not a kubeconfig: exit 2 naming it', () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'clusters: [: oops\n');
    const f = failure(() => loadClusterTarget({ kubeconfig: bad }));
    expect(f.exit2).toBe(true);
    expect(f.message).toMatch(new RegExp(`^${bad}: not a kubeconfig: `));
  });

  it('$KUBECONFIG: its files merged in order (the first sets current-context), missing ones skipped as kubectl does', () => {
    const other = kubeconfig('other.yaml', ['qa'], 'qa');
    const env = { KUBECONFIG: [path.join(dir, 'absent.yaml'), other, staging].join(path.delimiter) };
    expect(kubeconfigFiles(undefined, env, dir)).toEqual([other, staging]);
    const t = loadClusterTarget({}, env, dir);
    expect(t.context).toBe('qa');
    expect(loadClusterTarget({ context: 'prod' }, env, dir).server).toBe('https://prod.example.com:6443');
    const f = failure(() => loadClusterTarget({}, { KUBECONFIG: path.join(dir, 'absent.yaml') }, dir));
    expect(f.message).toBe(
      `KUBECONFIG=${path.join(dir, 'absent.yaml')}: no such file; name the cluster's kubeconfig with --kubeconfig <file>`,
    );
  });

  it('neither --kubeconfig, $KUBECONFIG nor ~/.kube/config: exit 2 saying what to give', () => {
    const home = path.join(dir, 'home');
    const f = failure(() => loadClusterTarget({}, {}, home));
    expect(f.exit2).toBe(true);
    expect(f.message).toBe(
      `--env cluster: no kubeconfig: ${path.join(home, '.kube', 'config')} does not exist and KUBECONFIG is not set; name the cluster's kubeconfig with --kubeconfig <file>`,
    );
  });
});
