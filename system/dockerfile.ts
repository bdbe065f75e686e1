import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TwinError } from '../core/errors.ts';

/**
 * An image the twin runs live without building it: a Dockerfile FROM the Debian bookworm base whose
 * packages the machine itself has installed. The twin takes the image's configuration from it
 * (ENTRYPOINT, CMD, ENV, WORKDIR, USER, STOPSIGNAL) and replays its other steps (COPY, RUN) into a
 * layer over the machine's root filesystem; the RUN that installs packages is not replayed, its
 * packages must be installed on the machine. docker/build-images.sh builds the same Dockerfile for the
 * differential tests, so the image and the twin's binding cannot drift apart.
 */
export interface ImageConfig {
  /** Absolute paths of the Dockerfile and its build context (its directory). */
  dockerfile: string;
  contextDir: string;
  entrypoint?: string[];
  cmd?: string[];
  /** ENV in the image's final state. */
  env: Record<string, string>;
  workingDir: string;
  user?: string;
  stopSignal?: string;
  volumes: string[];
  /** EXPOSE: the ports the image documents. */
  exposedPorts: number[];
  /** Debian packages of the image's `apt-get install` (the machine must have them). */
  packages: string[];
  /** COPY and RUN steps after the base, in order, replayed into the image's layer. */
  steps: ImageStep[];
}

export type ImageStep =
  | { kind: 'copy'; line: number; sources: string[]; dest: string; chown?: string; chmod?: string }
  | { kind: 'run'; line: number; command: string; env: Record<string, string>; workingDir: string }
  | { kind: 'workdir'; line: number; path: string };

/** The Debian base every bound image builds on (docker/build-images.sh imports it from debootstrap). */
export const DEBIAN_BASE_IMAGE = 'local/debian:bookworm';
/** Docker's PATH when an image sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface Instruction {
  keyword: string;
  rest: string;
  line: number;
}

/** Instructions of a Dockerfile: continuation lines joined, comments and blank lines dropped. */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  let current: { parts: string[]; line: number } | undefined;
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!current && /^\s*(#.*)?$/.test(line)) return;
    if (current && /^\s*#/.test(line)) return;
    const continued = /\\\s*$/.test(line);
    const body = continued ? line.replace(/\\\s*$/, '') : line;
    if (!current) current = { parts: [], line: i + 1 };
    current.parts.push(body);
    if (!continued) {
      const joined = current.parts.join(' ').trim();
      const m = /^(\S+)\s*(.*)$/s.exec(joined)!;
      out.push({ keyword: m[1]!.toUpperCase(), rest: m[2]!, line: current.line });
      current = undefined;
    }
  });
  if (current) {
    const joined = current.parts.join(' ').trim();
    const m = /^(\S+)\s*(.*)$/s.exec(joined)!;
    out.push({ keyword: m[1]!.toUpperCase(), rest: m[2]!, line: current.line });
  }
  return out;
}

/** `${VAR}`, `${VAR:-default}` and `$VAR` as Docker substitutes them in ENV, WORKDIR, COPY, USER … */
export function substitute(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (
      m,
      braced: string | undefined,
      op: string | undefined,
      word: string | undefined,
      bare: string | undefined,
    ) => {
      if (m === '\\$') return '$';
      const name = (braced ?? bare)!;
      const v = vars[name];
      if (op === '-') return v ? v : (word ?? '');
      if (op === '+') return v ? (word ?? '') : '';
      return v ?? '';
    },
  );
}

/** `["a", "b"]` (exec form) or a shell string (shell form, run by /bin/sh -c). */
function commandForm(rest: string): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const parsed = JSON.parse(t) as unknown;
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed;
    } catch {}
  }
  return ['/bin/sh', '-c', t];
}

/** `K=V K2="v 2"` or the legacy `K V` form. */
function keyValues(rest: string): Array<[string, string]> {
  const t = rest.trim();
  if (!/^[^\s=]+=/.test(t)) {
    const m = /^(\S+)\s+(.*)$/s.exec(t);
    return m ? [[m[1]!, m[2]!]] : [];
  }
  const out: Array<[string, string]> = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    let v = m[2]!;
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1]!, v]);
  }
  return out;
}

const APT_ONLY =
  /^(apt-get\s+(update|install|clean)\b.*|rm -rf \/var\/lib\/apt\/lists\/\*|set -[eux]+|true)$/;

/** The packages of a RUN that installs packages, or undefined for any other RUN. */
export function aptPackages(command: string): string[] | undefined {
  if (!/\bapt-get\s+install\b/.test(command)) return undefined;
  const commands = command
    .split(/&&|;/)
    .map((c) => c.trim().replace(/\s+/g, ' '))
    .filter(Boolean);
  const packages: string[] = [];
  for (const c of commands) {
    if (!APT_ONLY.test(c)) return [];
    const m = /^apt-get\s+install\s+(.*)$/.exec(c);
    if (m) packages.push(...m[1]!.split(' ').filter((w) => w && !w.startsWith('-')));
  }
  return packages;
}

/** Reads an image's configuration from its Dockerfile (see ImageConfig). */
export function readDockerfile(dockerfile: string): ImageConfig {
  const file = path.resolve(dockerfile);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TwinError(
      'TWIN_BINDINGS_INVALID',
      `${file}: cannot read the Dockerfile: ${(err as Error).message}`,
    );
  }
  const fail = (line: number, message: string): never => {
    throw new TwinError('TWIN_BINDINGS_INVALID', `${file}:${line}: ${message}`);
  };
  const args: Record<string, string> = {};
  const env: Record<string, string> = {};
  const image: ImageConfig = {
    dockerfile: file,
    contextDir: path.dirname(file),
    env,
    workingDir: '/',
    volumes: [],
    exposedPorts: [],
    packages: [],
    steps: [],
  };
  let from = false;
  const vars = () => ({ ...args, ...env });
  for (const ins of instructions(text)) {
    const value = (s: string) => substitute(s, vars());
    switch (ins.keyword) {
      case 'ARG': {
        const [name, def] = ins.rest.trim().split('=', 2) as [string, string | undefined];
        args[name] = def === undefined ? (args[name] ?? '') : value(def.replace(/^"(.*)"$/, '$1'));
        break;
      }
      case 'FROM': {
        if (from) fail(ins.line, 'multi-stage builds are not supported for images the twin runs live');
        const base = value(ins.rest.trim().split(/\s+/)[0]!);
        if (base !== DEBIAN_BASE_IMAGE)
          fail(
            ins.line,
            `FROM ${base}: an image the twin runs live builds FROM ${DEBIAN_BASE_IMAGE} (the Debian bookworm the machine runs), so that its packages are the machine's`,
          );
        from = true;
        break;
      }
      case 'ENV':
        for (const [k, v] of keyValues(ins.rest)) env[k] = value(v);
        break;
      case 'EXPOSE':
        for (const p of value(ins.rest).trim().split(/\s+/)) {
          const port = Number.parseInt(p, 10);
          if (Number.isInteger(port)) image.exposedPorts.push(port);
        }
        break;
      case 'LABEL':
      case 'MAINTAINER':
      case 'HEALTHCHECK':
        break;
      case 'VOLUME':
        image.volumes.push(...commandForm(ins.rest).slice(ins.rest.trim().startsWith('[') ? 0 : 2));
        break;
      case 'WORKDIR': {
        const dir = value(ins.rest.trim());
        image.workingDir = path.posix.resolve(image.workingDir, dir);
        image.steps.push({ kind: 'workdir', line: ins.line, path: image.workingDir });
        break;
      }
      case 'USER':
        image.user = value(ins.rest.trim());
        break;
      case 'STOPSIGNAL':
        image.stopSignal = value(ins.rest.trim());
        break;
      case 'ENTRYPOINT':
        image.entrypoint = commandForm(ins.rest);
        break;
      case 'CMD':
        image.cmd = commandForm(ins.rest);
        break;
      case 'COPY': {
        const words = ins.rest.trim().split(/\s+/);
        let chown: string | undefined;
        let chmod: string | undefined;
        while (words[0]?.startsWith('--')) {
          const flag = words.shift()!;
          const [k, v] = flag.slice(2).split('=', 2);
          if (k === 'chown') chown = value(v ?? '');
          else if (k === 'chmod') chmod = v;
          else fail(ins.line, `COPY ${flag}: only --chown and --chmod are supported`);
        }
        if (words.length < 2) fail(ins.line, 'COPY needs a source and a destination');
        const dest = value(words.pop()!);
        const sources = words.map(value);
        for (const s of sources)
          if (s.startsWith('/') || s.split('/').includes('..'))
            fail(ins.line, `COPY ${s}: sources must be inside the build context`);
        image.steps.push({
          kind: 'copy',
          line: ins.line,
          sources,
          dest: path.posix.resolve(image.workingDir, dest) + (dest.endsWith('/') ? '/' : ''),
          ...(chown ? { chown } : {}),
          ...(chmod ? { chmod } : {}),
        });
        break;
      }
      case 'RUN': {
        const command = ins.rest.trim();
        const packages = aptPackages(command);
        if (packages === undefined) {
          image.steps.push({
            kind: 'run',
            line: ins.line,
            command,
            env: { ...env },
            workingDir: image.workingDir,
          });
        } else if (packages.length === 0) {
          fail(
            ins.line,
            'a RUN that installs packages may only run apt-get update/install and rm -rf /var/lib/apt/lists/* (the twin checks its packages on the machine instead of running it); put other commands in a RUN of their own',
          );
        } else image.packages.push(...packages);
        break;
      }
      default:
        fail(ins.line, `${ins.keyword} is not supported for images the twin runs live`);
    }
  }
  if (!from) fail(1, 'no FROM');
  return image;
}
