import path from 'node:path';
import { readTerraformModule, type TerraformModule } from './terraform-config.ts';

/** An IAM role a Terraform root creates, with where it is declared. */
export interface DeclaredRole {
  /** The role's name, or undefined when it depends on something known only at apply time. */
  name: string | undefined;
  /** "module.irsa.aws_iam_role.service_account[\"fluent-bit\"]" */
  address: string;
  /** The expression as written, for messages. */
  expression: string;
}

type Scope = { vars: Record<string, unknown>; locals: Record<string, unknown>; eachKey?: string };

/**
 * The names of the `aws_iam_role` resources a Terraform root declares, in it and in the local modules
 * it calls (sources starting with ./ or ../), evaluating what Terraform would know at plan time
 * from the configuration alone: literals, `var.*` (defaults and module arguments), `local.*`,
 * `each.key` of a `for_each` over a map, and string templates of those. Anything else (a data source,
 * another resource's attribute) leaves the name undefined rather than guessed.
 */
export async function declaredIamRoles(rootDir: string): Promise<DeclaredRole[]> {
  const root = await readTerraformModule(rootDir);
  const out: DeclaredRole[] = [];
  await collect(root, defaultsOf(root), '', out);
  return out;
}

async function collect(
  mod: TerraformModule,
  vars: Record<string, unknown>,
  prefix: string,
  out: DeclaredRole[],
) {
  const scope: Scope = { vars, locals: {} };
  // Locals may refer to each other; a few passes settle the ones that can be known.
  for (let pass = 0; pass < 3; pass++)
    for (const [k, v] of Object.entries(mod.locals)) scope.locals[k] = evaluate(v, scope);
  for (const [name, block] of Object.entries(mod.resources['aws_iam_role'] ?? {})) {
    const expression = String(block['name'] ?? '');
    const forEach = block['for_each'] === undefined ? undefined : evaluate(block['for_each'], scope);
    const keys =
      block['for_each'] === undefined
        ? [undefined]
        : forEach && typeof forEach === 'object'
          ? Object.keys(forEach as object)
          : Array.isArray(forEach)
            ? (forEach as unknown[]).map(String)
            : null;
    if (keys === null) {
      out.push({ name: undefined, address: `${prefix}aws_iam_role.${name}`, expression });
      continue;
    }
    for (const key of keys) {
      const value = evaluate(block['name'], { ...scope, ...(key === undefined ? {} : { eachKey: key }) });
      out.push({
        name: typeof value === 'string' ? value : undefined,
        address: `${prefix}aws_iam_role.${name}${key === undefined ? '' : `[${JSON.stringify(key)}]`}`,
        expression,
      });
    }
  }
  for (const [name, call] of Object.entries(mod.modules)) {
    const source = String(call['source'] ?? '');
    if (!source.startsWith('./') && !source.startsWith('../')) continue;
    const child = await readTerraformModule(path.resolve(mod.dir, source));
    const childVars = defaultsOf(child);
    for (const [k, v] of Object.entries(call)) if (k !== 'source') childVars[k] = evaluate(v, scope);
    await collect(child, childVars, `${prefix}module.${name}.`, out);
  }
}

function defaultsOf(mod: TerraformModule): Record<string, unknown> {
  return Object.fromEntries(Object.entries(mod.variables).map(([k, v]) => [k, v.default]));
}

const UNKNOWN = Symbol('unknown');

/** Evaluates an hcl2json value: strings are templates ("${expr}" parts), objects and arrays element-wise. */
function evaluate(value: unknown, scope: Scope): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^{}]+)\}$/.exec(value);
    if (whole) {
      const v = reference(whole[1]!.trim(), scope);
      return v === UNKNOWN ? undefined : v;
    }
    let unknown = false;
    const text = value.replace(/\$\{([^{}]+)\}/g, (_, expr: string) => {
      const v = reference(expr.trim(), scope);
      if (v === UNKNOWN || v === undefined || typeof v === 'object') {
        unknown = true;
        return '';
      }
      return String(v);
    });
    return unknown ? undefined : text;
  }
  if (Array.isArray(value)) return value.map((v) => evaluate(v, scope));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v, scope)]));
  return value;
}

function reference(expr: string, scope: Scope): unknown {
  if (expr === 'each.key') return scope.eachKey ?? UNKNOWN;
  const m = /^(var|local)\.([A-Za-z_][\w-]*)$/.exec(expr);
  if (!m) return UNKNOWN;
  const table = m[1] === 'var' ? scope.vars : scope.locals;
  return m[2]! in table && table[m[2]!] !== undefined ? table[m[2]!] : UNKNOWN;
}
