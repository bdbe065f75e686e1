import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * Bundles a TypeScript entry into one ESM file that plain `node` runs, so live pods start in tens of
 * milliseconds instead of paying a TypeScript loader per process. Bundles are cached by the content
 * of every input file.
 */
export class WorkloadBundler {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly cacheDir: string) {}

  bundle(entry: string): Promise<string> {
    let p = this.pending.get(entry);
    if (!p) {
      p = this.build(entry);
      this.pending.set(entry, p);
      p.catch(() => this.pending.delete(entry));
    }
    return p;
  }

  private async build(entry: string): Promise<string> {
    await mkdir(this.cacheDir, { recursive: true });
    const manifestFile = path.join(
      this.cacheDir,
      `${createHash('sha256').update(entry).digest('hex').slice(0, 16)}.json`,
    );
    const cached = await readManifest(manifestFile);
    if (cached && (await inputsUnchanged(cached.inputs))) return cached.outfile;
    const outfile = manifestFile.replace(/\.json$/, '.mjs');
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      metafile: true,
      logLevel: 'silent',
      sourcemap: 'inline',
      banner: {
        js: "import { createRequire as __twinCreateRequire } from 'node:module'; const require = __twinCreateRequire(import.meta.url);",
      },
    });
    const inputs: Record<string, string> = {};
    for (const input of Object.keys(result.metafile.inputs)) {
      const abs = path.resolve(input);
      inputs[abs] = await digest(abs);
    }
    await writeFile(manifestFile, JSON.stringify({ outfile, inputs }));
    return outfile;
  }
}

async function readManifest(
  file: string,
): Promise<{ outfile: string; inputs: Record<string, string> } | undefined> {
  try {
    const m = JSON.parse(await readFile(file, 'utf8'));
    await stat(m.outfile);
    return m;
  } catch {
    return undefined;
  }
}

async function inputsUnchanged(inputs: Record<string, string>): Promise<boolean> {
  for (const [file, hash] of Object.entries(inputs)) {
    try {
      if ((await digest(file)) !== hash) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function digest(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}
