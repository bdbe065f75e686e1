import { realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { TwinError } from '../core/errors.ts';
import { type ImageConfig, readDockerfile } from './dockerfile.ts';
import { aliasProblem, MAX_ALIAS_COUNT } from './render/manifest-yaml.ts';
import { REPO_ROOT } from './repo-root.ts';

/** Bindings' paths that start with it name a file of this package (installed under node_modules). */
export const PACKAGE_PATH_PREFIX = 'infra-twin/';

/** A binding's entry or Dockerfile path: relative to the repository, or `infra-twin/…` inside this package. */
export function bindingPath(baseDir: string, file: string): string {
  return file.startsWith(PACKAGE_PATH_PREFIX)
    ? path.join(REPO_ROOT, file.slice(PACKAGE_PATH_PREFIX.length))
    : path.resolve(baseDir, file);
}

/**
 * Twin bindings map container images to local programs: an image with a binding runs live, every
 * other image is emulated through the pod lifecycle. A binding is one of
 *  - `dockerfile`: the image is that Dockerfile (FROM the Debian base, packages the machine has); its
 *    container runs in a sandbox over the machine's root filesystem with the image's ENTRYPOINT, CMD,
 *    ENV, WORKDIR and USER and the pod's volumes, as a container runtime runs it (system/dockerfile.ts);
 *  - `entry`: a TypeScript program bundled and run with node (the reference workloads, whose images
 *    run that program; and the twin's stand-ins for operator programs);
 *  - `command`: an executable run as it is, with the container's arguments.
 */
const bindingSchema = z
  .object({
    image: z.string().min(1),
    entry: z.string().min(1).optional(),
    command: z.array(z.string()).min(1).optional(),
    dockerfile: z.string().min(1).optional(),
    env: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine((b) => [b.entry, b.command, b.dockerfile].filter((x) => x !== undefined).length === 1, {
    message:
      'exactly one of dockerfile (the image, built from Debian packages the machine has), entry (a TypeScript file run with node) or command (an executable and its arguments) is required',
  });

const bindingsSchema = z
  .object({
    apiVersion: z.literal('twin.dev/v1alpha1'),
    kind: z.literal('TwinBindings'),
    images: z.array(bindingSchema),
  })
  .strict();

export type TwinBinding = z.infer<typeof bindingSchema>;

export interface ResolvedBinding {
  /** TypeScript entry (absolute), bundled and run with node. */
  entry?: string;
  /** Executable and arguments, run as they are. */
  command?: string[];
  /** The image's configuration, run in a container sandbox. */
  image?: ImageConfig;
  env: Record<string, string>;
}

export class TwinBindings {
  private readonly images = new Map<string, ImageConfig>();

  constructor(
    private readonly bindings: TwinBinding[],
    private readonly baseDir: string,
  ) {
    for (const b of bindings)
      if (b.dockerfile) this.images.set(b.dockerfile, readDockerfile(bindingPath(baseDir, b.dockerfile)));
  }

  /** Every binding as written (image name and what it binds to). */
  list(): readonly TwinBinding[] {
    return this.bindings;
  }

  static empty(): TwinBindings {
    return new TwinBindings([], process.cwd());
  }

  static async load(file: string, baseDir: string): Promise<TwinBindings> {
    const text = await readFile(file, 'utf8');
    let doc: unknown;
    try {
      doc = parse(text, { prettyErrors: true, maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      if (e instanceof YAMLParseError) {
        const pos = e.linePos?.[0];
        throw new TwinError(
          'TWIN_BINDINGS_INVALID',
          `${file}:${pos?.line ?? 1}:${pos?.col ?? 1}: ${e.message.split('\n')[0]}`,
        );
      }
      throw new TwinError('TWIN_BINDINGS_INVALID', `${file}: ${aliasProblem(e)}`, { cause: e });
    }
    const parsed = bindingsSchema.safeParse(doc);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '');
      throw new TwinError('TWIN_BINDINGS_INVALID', `${file}: ${field || '(document)'}: ${issue.message}`);
    }
    parsed.data.images.forEach((b, i) => {
      if (b.entry !== undefined) checkEntry(file, `images[${i}].entry`, b.entry, baseDir);
      if (b.dockerfile !== undefined) checkEntry(file, `images[${i}].dockerfile`, b.dockerfile, baseDir);
    });
    try {
      return new TwinBindings(parsed.data.images, baseDir);
    } catch (err) {
      if (err instanceof TwinError)
        throw new TwinError(err.code, `${file}: images[].dockerfile: ${err.message}`);
      throw err;
    }
  }

  /** The binding for an image reference (any tag or digest of the bound repository), or undefined. */
  resolve(image: string): ResolvedBinding | undefined {
    const { repository, tag } = splitImage(image);
    const binding = this.bindings.find((b) => splitImage(b.image).repository === repository);
    if (!binding) return undefined;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(binding.env ?? {})) {
      env[k] = v.replaceAll('{{image.tag}}', tag).replaceAll('{{image.repository}}', repository);
    }
    const resolved: ResolvedBinding = { env };
    if (binding.entry) resolved.entry = bindingPath(this.baseDir, binding.entry);
    if (binding.command) resolved.command = binding.command;
    if (binding.dockerfile) resolved.image = this.images.get(binding.dockerfile)!;
    return resolved;
  }
}

/**
 * An entry is a TypeScript file of the repository (the base directory): the twin bundles and runs it,
 * so a path that leaves the repository (`../../etc/passwd`, an absolute path, a symbolic link out)
 * or names nothing is refused before anything starts.
 */
function checkEntry(file: string, field: string, entry: string, baseDir: string): void {
  // `infra-twin/…` names a file of this package (installed under node_modules): confined to the package.
  const ofPackage = entry.startsWith(PACKAGE_PATH_PREFIX);
  const root = ofPackage ? REPO_ROOT : path.resolve(baseDir);
  const abs = path.resolve(root, ofPackage ? entry.slice(PACKAGE_PATH_PREFIX.length) : entry);
  const inside = (p: string, r: string) => {
    const rel = path.relative(r, p);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  if (!inside(abs, root))
    throw new TwinError(
      'TWIN_BINDINGS_INVALID',
      `${file}: ${field}: "${entry}" is outside the repository ${root}; it names a file of the repository, relative to it`,
    );
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    throw new TwinError(
      'TWIN_BINDINGS_INVALID',
      `${file}: ${field}: "${entry}" does not exist (${abs}); name a file of the repository, relative to it`,
    );
  }
  if (!inside(real, realpathSync(root)))
    throw new TwinError(
      'TWIN_BINDINGS_INVALID',
      `${file}: ${field}: "${entry}" leads outside the repository (to ${real}); it names a file of the repository`,
    );
  if (!statSync(real).isFile())
    throw new TwinError('TWIN_BINDINGS_INVALID', `${file}: ${field}: "${entry}" is not a file`);
}

/** Splits "registry:5000/team/app:1.2@sha256:…" into repository and tag ("latest" when absent). */
export function splitImage(image: string): { repository: string; tag: string } {
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > lastSlash)
    return { repository: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) };
  return { repository: withoutDigest, tag: 'latest' };
}
