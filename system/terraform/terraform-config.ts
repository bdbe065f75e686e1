import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { TwinError } from '../../core/errors.ts';

/** One Terraform module directory, its .tf files merged as hcl2json gives them (blocks as arrays). */
export interface TerraformModule {
  dir: string;
  variables: Record<string, { default?: unknown }>;
  locals: Record<string, unknown>;
  /** resource type → name → the block's attributes (first block of that name). */
  resources: Record<string, Record<string, Record<string, unknown>>>;
  /** module name → the call's arguments (source included). */
  modules: Record<string, Record<string, unknown>>;
}

/** Reads every .tf file of a directory with HashiCorp's HCL parser (hcl2json); syntax errors name the file. */
export async function readTerraformModule(dir: string): Promise<TerraformModule> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.tf')).sort();
  const mod: TerraformModule = { dir, variables: {}, locals: {}, resources: {}, modules: {} };
  for (const f of files) {
    const file = path.join(dir, f);
    let json: any;
    try {
      json = await parse(file, await readFile(file, 'utf8'));
    } catch (err) {
      throw new TwinError(
        'TWIN_MANIFEST_INVALID',
        `${path.relative(process.cwd(), file)}: ${(err as Error).message}`,
      );
    }
    for (const [name, blocks] of Object.entries<any[]>(json.variable ?? {}))
      mod.variables[name] = blocks[0] ?? {};
    for (const block of (json.locals ?? []) as Record<string, unknown>[]) Object.assign(mod.locals, block);
    for (const [type, byName] of Object.entries<Record<string, any[]>>(json.resource ?? {})) {
      const ofType = mod.resources[type] ?? {};
      mod.resources[type] = ofType;
      for (const [name, blocks] of Object.entries(byName)) ofType[name] = blocks[0] ?? {};
    }
    for (const [name, blocks] of Object.entries<any[]>(json.module ?? {}))
      mod.modules[name] = blocks[0] ?? {};
  }
  return mod;
}
