import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { TwinError } from '../../../core/errors.ts';
import { DEFAULT_PATH, type ImageConfig } from '../../../system/dockerfile.ts';
import { shellQuote, shellWords } from './shell-quote.ts';

const LAYER_FORMAT = 1;

/**
 * The image's own layer over the machine's root filesystem: what its Dockerfile's COPY, WORKDIR and
 * RUN steps (all but the package installation, whose packages the machine has) leave behind, made by
 * replaying them as `docker build` would, as root in an overlay whose upper directory becomes the
 * layer. Built once per Dockerfile, context and set of installed packages, in
 * `<cacheDir>/images/<name>-<hash>/layer`.
 *
 * Twin simplification: the image's base and packages are the machine's root filesystem as installed (a Debian bookworm with the Dockerfile's packages), so a container also sees what else the machine has installed or stores there (https://docs.docker.com/build/building/packaging/).
 */
export function imageLayer(image: ImageConfig, cacheDir: string): Promise<string> {
  const key = layerKey(image);
  const dir = path.join(cacheDir, 'images', `${path.basename(image.contextDir)}-${key}`);
  let p = building.get(dir);
  if (!p) {
    p = build(image, dir);
    building.set(dir, p);
    p.catch(() => building.delete(dir));
  }
  return p;
}

const building = new Map<string, Promise<string>>();

function layerKey(image: ImageConfig): string {
  const h = createHash('sha256').update(`format ${LAYER_FORMAT}\n`);
  h.update(readFileSync(image.dockerfile));
  for (const step of image.steps)
    if (step.kind === 'copy') for (const s of step.sources) hashTree(h, path.join(image.contextDir, s));
  try {
    h.update(readFileSync('/var/lib/dpkg/status'));
  } catch {}
  return h.digest('hex').slice(0, 16);
}

function hashTree(h: ReturnType<typeof createHash>, p: string): void {
  const st = statSync(p);
  h.update(`${p} ${st.mode}\n`);
  if (st.isDirectory()) for (const e of readdirSync(p).sort()) hashTree(h, path.join(p, e));
  else h.update(readFileSync(p));
}

/** The script that replays the image's steps into `upper` (run in a private mount namespace). */
export function layerBuildScript(
  image: ImageConfig,
  dirs: { upper: string; work: string; merged: string },
): string {
  const m = (p: string) => shellQuote(path.posix.join(dirs.merged, p));
  const lines = [
    'set -e',
    `mount -t overlay overlay -o ${shellQuote(`lowerdir=/,upperdir=${dirs.upper},workdir=${dirs.work}`)} ${shellQuote(dirs.merged)}`,
    `mount -t proc proc ${m('/proc')}`,
    `mount --rbind /dev ${m('/dev')}`,
    `mount --rbind /sys ${m('/sys')}`,
  ];
  for (const step of image.steps) {
    if (step.kind === 'workdir') lines.push(`mkdir -p ${m(step.path)}`);
    else if (step.kind === 'copy') {
      const intoDir = step.dest.endsWith('/') || step.sources.length > 1;
      for (const source of step.sources) {
        const src = path.join(image.contextDir, source);
        const target = intoDir ? path.posix.join(step.dest, path.posix.basename(source)) : step.dest;
        if (statSync(src).isDirectory())
          lines.push(`mkdir -p ${m(target)}`, `cp -a ${shellQuote(`${src}/.`)} ${m(target)}/`);
        else
          lines.push(
            `mkdir -p ${shellQuote(path.posix.dirname(path.posix.join(dirs.merged, target)))}`,
            `cp -p ${shellQuote(src)} ${m(target)}`,
          );
        lines.push(
          step.chown
            ? `chroot ${shellQuote(dirs.merged)} chown -R ${shellQuote(step.chown)} ${shellQuote(target)}`
            : `chown -R 0:0 ${m(target)}`,
        );
        if (step.chmod) lines.push(`chmod -R ${shellQuote(step.chmod)} ${m(target)}`);
      }
    } else {
      const env = { PATH: DEFAULT_PATH, HOME: '/root', ...step.env };
      lines.push(
        `mkdir -p ${m(step.workingDir)}`,
        `chroot ${shellQuote(dirs.merged)} /usr/bin/env -i -C ${shellQuote(step.workingDir)} ${shellWords(Object.entries(env).map(([k, v]) => `${k}=${v}`))} /bin/sh -c ${shellQuote(step.command)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

async function build(image: ImageConfig, dir: string): Promise<string> {
  const layer = path.join(dir, 'layer');
  if (existsSync(layer)) return layer;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const dirs = {
    upper: path.join(tmp, 'layer'),
    work: path.join(tmp, 'work'),
    merged: path.join(tmp, 'merged'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const script = path.join(tmp, 'build.sh');
  writeFileSync(script, layerBuildScript(image, dirs));
  try {
    await new Promise<void>((resolve, reject) =>
      execFile(
        'unshare',
        ['--mount', '--propagation', 'private', '--', '/bin/sh', script],
        (err, stdout, stderr) =>
          err
            ? reject(new Error(`${stderr || stdout || err.message}`.trim().split('\n').slice(-8).join('\n')))
            : resolve(),
      ),
    );
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new TwinError(
      'TWIN_PROCESS_FAILED',
      `replaying ${image.dockerfile} into the image's layer failed (the twin runs images live as root): ${(err as Error).message}`,
    );
  }
  rmSync(dirs.work, { recursive: true, force: true });
  rmSync(dirs.merged, { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
  return layer;
}
