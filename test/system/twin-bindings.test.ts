import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTwinError } from '../../core/errors.ts';
import { REPO_ROOT } from '../../system/repo-root.ts';
import { splitImage, TwinBindings } from '../../system/twin-bindings.ts';

const ROOT = '/srv/repo';

describe('TwinBindings.resolve', () => {
  const bindings = new TwinBindings(
    [
      {
        image: 'ghcr.io/acme/api',
        entry: 'workloads/api/server.ts',
        env: { BUILD_VERSION: '{{image.tag}}', REPO: '{{image.repository}}' },
      },
      { image: 'registry.local:5000/tools/echo:ignored', command: ['/bin/echo', 'hi'] },
    ],
    ROOT,
  );

  it('binds any tag or digest of the bound repository and substitutes {{image.tag}}', () => {
    expect(bindings.resolve('ghcr.io/acme/api:2.1.0')).toEqual({
      entry: '/srv/repo/workloads/api/server.ts',
      env: { BUILD_VERSION: '2.1.0', REPO: 'ghcr.io/acme/api' },
    });
    expect(bindings.resolve('ghcr.io/acme/api')?.env['BUILD_VERSION']).toBe('latest');
    expect(bindings.resolve('ghcr.io/acme/api:1.0.0@sha256:abcdef')?.env['BUILD_VERSION']).toBe('1.0.0');
    expect(bindings.resolve('ghcr.io/acme/api@sha256:abcdef')?.entry).toBe(
      '/srv/repo/workloads/api/server.ts',
    );
  });

  it('does not bind other repositories, prefixes or registries', () => {
    expect(bindings.resolve('ghcr.io/acme/api-worker:1')).toBeUndefined();
    expect(bindings.resolve('docker.io/acme/api:1')).toBeUndefined();
    expect(bindings.resolve('acme/api:1')).toBeUndefined();
    expect(bindings.resolve('nginx:1.27')).toBeUndefined();
  });

  it('binds commands by repository, registry port included', () => {
    expect(bindings.resolve('registry.local:5000/tools/echo:3')).toEqual({
      command: ['/bin/echo', 'hi'],
      env: {},
    });
    expect(bindings.resolve('registry.local:5001/tools/echo:3')).toBeUndefined();
  });

  it('the empty bindings bind nothing', () => {
    expect(TwinBindings.empty().resolve('ghcr.io/acme/api:1')).toBeUndefined();
  });
});

describe('TwinBindings.load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twin-bindings-'));
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  async function loadError(file: string, base = dir): Promise<{ code: string; message: string }> {
    try {
      await TwinBindings.load(file, base);
    } catch (e) {
      if (isTwinError(e)) return { code: e.code, message: e.message };
      throw e;
    }
    throw new Error(`${file} loaded`);
  }
  const header = 'apiVersion: twin.dev/v1alpha1\nkind: TwinBindings\n';

  it('loads a valid file and resolves entries against the base directory', async () => {
    mkdirSync(join(dir, 'web'), { recursive: true });
    write('web/server.ts', 'export {};\n');
    const file = write(
      'ok.yaml',
      `${header}images:\n  - image: ghcr.io/acme/web\n    entry: web/server.ts\n`,
    );
    const b = await TwinBindings.load(file, dir);
    expect(b.resolve('ghcr.io/acme/web:9')?.entry).toBe(join(dir, 'web/server.ts'));
  });

  it('confines an entry to the repository and requires it to exist', async () => {
    const out = await loadError(
      write('out.yaml', `${header}images:\n  - image: a/b\n    entry: ../../../../etc/passwd\n`),
    );
    expect(out.code).toBe('TWIN_BINDINGS_INVALID');
    expect(out.message).toContain(
      'out.yaml: images[0].entry: "../../../../etc/passwd" is outside the repository',
    );
    const abs = await loadError(
      write('abs.yaml', `${header}images:\n  - image: a/b\n    entry: /etc/passwd\n`),
    );
    expect(abs.message).toContain('images[0].entry: "/etc/passwd" is outside the repository');
    symlinkSync('/etc', join(dir, 'etc-link'));
    const link = await loadError(
      write('link.yaml', `${header}images:\n  - image: a/b\n    entry: etc-link/passwd\n`),
    );
    expect(link.message).toContain(
      'images[0].entry: "etc-link/passwd" leads outside the repository (to /etc/passwd)',
    );
    const none = await loadError(
      write('none.yaml', `${header}images:\n  - image: a/b\n    entry: nope.ts\n`),
    );
    expect(none.message).toContain('images[0].entry: "nope.ts" does not exist');
  });

  it('an alias bomb is refused with the file named', async () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
      'f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]',
    ].join('\n');
    const r = await loadError(write('bomb.yaml', `${header}images: []\n${bomb}\n`));
    expect(r.code).toBe('TWIN_BINDINGS_INVALID');
    expect(r.message).toContain('bomb.yaml: its aliases expand more than 1000 times');
  });

  it('names the file and the field of an invalid binding', async () => {
    const missing = await loadError(write('missing.yaml', `${header}images:\n  - entry: web/server.ts\n`));
    expect(missing.code).toBe('TWIN_BINDINGS_INVALID');
    expect(missing.message).toContain('missing.yaml: images[0].image:');
    const extra = await loadError(
      write('extra.yaml', `${header}images:\n  - image: a/b\n    entry: x.ts\n    tag: latest\n`),
    );
    expect(extra.message).toContain('extra.yaml: images[0]');
    expect(extra.message).toMatch(/tag/);
    const kind = await loadError(
      write('kind.yaml', 'apiVersion: twin.dev/v1alpha1\nkind: Bindings\nimages: []\n'),
    );
    expect(kind.message).toContain('kind.yaml: kind:');
  });

  it('requires exactly one of dockerfile, entry and command', async () => {
    const both = await loadError(
      write('both.yaml', `${header}images:\n  - image: a/b\n    entry: x.ts\n    command: [x]\n`),
    );
    expect(both.code).toBe('TWIN_BINDINGS_INVALID');
    expect(both.message).toContain('images[0]: exactly one of dockerfile');
    const neither = await loadError(write('neither.yaml', `${header}images:\n  - image: a/b\n`));
    expect(neither.message).toContain('exactly one of dockerfile');
  });

  it('reads a Dockerfile binding’s image and reports a Dockerfile it cannot run, naming both files', async () => {
    const ok = await TwinBindings.load(
      write('df.yaml', `${header}images:\n  - image: redis\n    dockerfile: docker/redis/Dockerfile\n`),
      REPO_ROOT,
    );
    expect(ok.resolve('redis:7.0')?.image?.cmd).toEqual(['redis-server']);
    const bad = await loadError(
      write('bad-df.yaml', `${header}images:\n  - image: x\n    dockerfile: workloads/api/Dockerfile\n`),
      REPO_ROOT,
    );
    expect(bad.code).toBe('TWIN_BINDINGS_INVALID');
    expect(bad.message).toMatch(
      /bad-df\.yaml: images\[\]\.dockerfile: .*workloads\/api\/Dockerfile:2: FROM node:\S+: an image the twin runs live builds FROM local\/debian:bookworm/,
    );
  });

  it('reports YAML syntax errors with file, line and column', async () => {
    const bad = await loadError(write('syntax.yaml', `${header}images:\n  - image: [a\n`));
    expect(bad.code).toBe('TWIN_BINDINGS_INVALID');
    expect(bad.message).toMatch(/syntax\.yaml:\d+:\d+: /);
  });
});

describe('splitImage', () => {
  it('splits repository and tag, registry ports and digests included', () => {
    expect(splitImage('nginx')).toEqual({ repository: 'nginx', tag: 'latest' });
    expect(splitImage('nginx:1.27')).toEqual({ repository: 'nginx', tag: '1.27' });
    expect(splitImage('localhost:5000/app')).toEqual({ repository: 'localhost:5000/app', tag: 'latest' });
    expect(splitImage('localhost:5000/team/app:1.2')).toEqual({
      repository: 'localhost:5000/team/app',
      tag: '1.2',
    });
    expect(splitImage('registry:5000/team/app:1.2@sha256:0123abcd')).toEqual({
      repository: 'registry:5000/team/app',
      tag: '1.2',
    });
    expect(splitImage('registry:5000/app@sha256:0123abcd')).toEqual({
      repository: 'registry:5000/app',
      tag: 'latest',
    });
  });
});
