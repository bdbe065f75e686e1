import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { aptPackages, instructions, readDockerfile, substitute } from '../../system/dockerfile.ts';

function dockerfile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dockerfile-'));
  const file = path.join(dir, 'Dockerfile');
  writeFileSync(file, text);
  return file;
}

describe('Dockerfile of an image the twin runs live', () => {
  it('reads the official redis image as docker/redis/Dockerfile makes it', () => {
    const image = readDockerfile('docker/redis/Dockerfile');
    expect(image.entrypoint).toEqual(['docker-entrypoint.sh']);
    expect(image.cmd).toEqual(['redis-server']);
    expect(image.workingDir).toBe('/data');
    expect(image.user).toBeUndefined();
    expect(image.volumes).toEqual(['/data']);
    expect(image.packages).toEqual(['redis-server', 'redis-sentinel', 'redis-tools', 'gosu', 'tzdata']);
    expect(image.steps.map((s) => s.kind)).toEqual(['run', 'workdir', 'copy']);
    expect(image.steps[2]).toMatchObject({ sources: ['docker-entrypoint.sh'], dest: '/usr/local/bin/' });
  });

  it('reads the postgres image: ENV in order (PGDATA in a later RUN), STOPSIGNAL, the sample configuration edit', () => {
    const image = readDockerfile('docker/postgres/Dockerfile');
    expect(image.env).toMatchObject({
      LANG: 'en_US.utf8',
      PG_MAJOR: '15',
      PGDATA: '/var/lib/postgresql/data',
    });
    expect(image.env['PATH']).toMatch(/^\/usr\/lib\/postgresql\/15\/bin:/);
    expect(image.stopSignal).toBe('SIGINT');
    const pgdataRun = image.steps.find((s) => s.kind === 'run' && s.command.includes('"$PGDATA"'));
    expect(pgdataRun && pgdataRun.kind === 'run' && pgdataRun.env['PGDATA']).toBe('/var/lib/postgresql/data');
  });

  it('reads the OT redis image: USER 1000:1000 and ENTRYPOINT without CMD', () => {
    const image = readDockerfile('docker/opstree-redis/Dockerfile');
    expect(image.user).toBe('1000:1000');
    expect(image.entrypoint).toEqual(['/usr/bin/entrypoint.sh']);
    expect(image.cmd).toBeUndefined();
    expect(image.env['REDIS_PORT']).toBe('6379');
  });

  it('joins continuation lines and drops comments; shell form becomes /bin/sh -c', () => {
    expect(instructions('# c\nRUN a \\\n  # inner\n  && b\nCMD x y\n')).toEqual([
      { keyword: 'RUN', rest: 'a    && b', line: 2 },
      { keyword: 'CMD', rest: 'x y', line: 5 },
    ]);
    const image = readDockerfile(dockerfile('FROM local/debian:bookworm\nCMD exec redis-server\n'));
    expect(image.cmd).toEqual(['/bin/sh', '-c', 'exec redis-server']);
  });

  it('substitutes variables as Docker does', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile variables
    expect(substitute('${A}/$B/${C:-d}/${A:+set}/\\$A', { A: 'a', B: 'b' })).toBe('a/b/d/set/$A');
  });

  it('takes the packages of a RUN that only installs them, and refuses one that does more', () => {
    expect(
      aptPackages(
        'apt-get update -qq && apt-get install -y --no-install-recommends a b && rm -rf /var/lib/apt/lists/*',
      ),
    ).toEqual(['a', 'b']);
    expect(aptPackages('mkdir /x')).toBeUndefined();
    expect(() =>
      readDockerfile(dockerfile('FROM local/debian:bookworm\nRUN apt-get install -y a && mkdir /x\n')),
    ).toThrow(/Dockerfile:2: a RUN that installs packages may only run apt-get/);
  });

  it('refuses another base than the machine’s Debian and instructions it cannot replay, naming file and line', () => {
    expect(() => readDockerfile(dockerfile('FROM alpine:3.19\n'))).toThrow(
      /Dockerfile:1: FROM alpine:3.19: an image the twin runs live builds FROM local\/debian:bookworm/,
    );
    expect(() => readDockerfile(dockerfile('FROM local/debian:bookworm\nADD x /x\n'))).toThrow(
      /Dockerfile:2: ADD is not supported/,
    );
    expect(() => readDockerfile(dockerfile('FROM local/debian:bookworm\nCOPY ../x /x\n'))).toThrow(
      /COPY \.\.\/x: sources must be inside the build context/,
    );
  });
});
