/**
 * Generates kube/schema/builtin-schema-extras.json: what the client-node models of kube/api lack and
 * kube-apiserver enforces for the built-in kinds, read from the compiled JSON-schema validators of the
 * pinned `kubernetes-models` package (generated from the same Kubernetes release's OpenAPI document):
 *
 * - enums: the allowed values of a string field (the OpenAPI document's `enum`, from `+enum` types
 *   such as DeploymentStrategyType, Toleration's operator, a Service's type);
 * - numberStrings: string-typed fields that also take a number (resource.Quantity, which the models
 *   type as plain strings).
 *
 * Both are found by probing: for every built-in kind a document is built from the models with every
 * field present, each string field holding a value no enum allows (then a number), and the kind's
 * validator reports, per JSON pointer, the allowed values (or accepts the number). Run with
 * `npx tsx scripts/generate-kube-schema-extras.ts [outDir]`; test/kube/schema/builtin-schema.test.ts
 * fails when the file is stale.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const schemasDir = path.join(root, 'node_modules', 'kubernetes-models', '_schemas');
const pkg = JSON.parse(
  readFileSync(path.join(root, 'node_modules', 'kubernetes-models', 'package.json'), 'utf8'),
) as { version: string };
const generatedModels = JSON.parse(
  readFileSync(path.join(root, 'kube', 'api', 'builtin-models.json'), 'utf8'),
);
const generatedResources = JSON.parse(
  readFileSync(path.join(root, 'kube', 'api', 'builtin-resources.json'), 'utf8'),
);
const models: Record<string, { properties: Record<string, { type: string; format?: string }> }> =
  generatedModels.models;

const PROBE = '\u0000not-an-enum-value';
const MAX_DEPTH = 14;

interface Slot {
  /** "V1DeploymentStrategy.type", "V1ResourceRequirements.limits{}", "V1Capabilities.add[]" */
  key: string;
}

/** A document with every field of `model` present; `slots` maps JSON pointers of string leaves to their model key. */
function build(
  model: string,
  pointer: string,
  onPath: Set<string>,
  slots: Map<string, Slot>,
  leaf: (pointer: string) => unknown,
): unknown {
  const m = models[model];
  if (!m || onPath.has(model) || onPath.size > MAX_DEPTH) return undefined;
  onPath.add(model);
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(m.properties)) {
    const v = value(prop.type, `${pointer}/${pointerEscape(name)}`, `${model}.${name}`, onPath, slots, leaf);
    if (v !== undefined) out[name] = v;
  }
  onPath.delete(model);
  return out;
}

function value(
  type: string,
  pointer: string,
  key: string,
  onPath: Set<string>,
  slots: Map<string, Slot>,
  leaf: (pointer: string) => unknown,
): unknown {
  if (type === 'string') {
    slots.set(pointer, { key });
    return leaf(pointer);
  }
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    const item = value(array[1]!, `${pointer}/0`, `${key}[]`, onPath, slots, leaf);
    return item === undefined ? undefined : [item];
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    const item = value(map[1]!, `${pointer}/k`, `${key}{}`, onPath, slots, leaf);
    return item === undefined ? undefined : { k: item };
  }
  if (models[type]) return build(type, pointer, onPath, slots, leaf);
  return undefined;
}

function pointerEscape(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The kubernetes-models schema module of a built-in kind: IoK8sApi<Group><Version><Kind>. */
function schemaModule(files: Set<string>, group: string, version: string, kind: string): string | undefined {
  const v = version[0]!.toUpperCase() + version.slice(1);
  const first = group === '' ? 'Core' : group.split('.')[0]!;
  const g = first[0]!.toUpperCase() + first.slice(1);
  for (const candidate of [
    `IoK8sApi${g}${v}${kind}.js`,
    `IoK8sApiextensionsApiserverPkgApis${g}${v}${kind}.js`,
    `IoK8sKubeAggregatorPkgApis${g}${v}${kind}.js`,
    `IoK8sApimachineryPkgApis${g}${v}${kind}.js`,
  ])
    if (files.has(candidate)) return candidate;
  return undefined;
}

type Validate = ((data: unknown) => boolean) & {
  errors?: { instancePath: string; keyword: string; params: Record<string, unknown> }[] | null;
};

async function main(): Promise<void> {
  const outDir = process.argv[2] ?? path.join(root, 'kube', 'schema');
  const files = new Set(readdirSync(schemasDir));
  const enums = new Map<string, string[]>();
  const numberStrings = new Set<string>();
  const kinds: string[] = [];
  for (const r of generatedResources.resources as {
    group: string;
    version: string;
    kind: string;
    model: string;
  }[]) {
    const file = schemaModule(files, r.group, r.version, r.kind);
    if (!file || !models[r.model]) continue;
    kinds.push(`${r.group || 'core'}/${r.version}/${r.kind}`);
    const { validate } = (await import(pathToFileURL(path.join(schemasDir, file)).href)) as {
      validate: Validate;
    };
    const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    const rejectsBoolean = new Set<string>();
    for (const pass of ['enum', 'boolean', 'number'] as const) {
      const slots = new Map<string, Slot>();
      const probe = pass === 'enum' ? PROBE : pass === 'boolean' ? true : 12345;
      const doc = build(r.model, '', new Set(), slots, () => probe) as Record<string, unknown>;
      doc['apiVersion'] = apiVersion;
      doc['kind'] = r.kind;
      validate(doc);
      const failed = new Set<string>();
      for (const e of validate.errors ?? []) {
        const slot = slots.get(e.instancePath);
        if (!slot) continue;
        failed.add(e.instancePath);
        if (pass === 'enum' && e.keyword === 'enum') {
          const allowed = (e.params['allowedValues'] as unknown[]).filter(
            (v): v is string => typeof v === 'string',
          );
          if (allowed.length > 0) enums.set(slot.key, allowed);
        }
      }
      if (pass === 'boolean') for (const p of failed) rejectsBoolean.add(p);
      // a field the validator checks (it rejects a boolean) but that takes a number: resource.Quantity
      if (pass === 'number')
        for (const [pointer, slot] of slots)
          if (!failed.has(pointer) && rejectsBoolean.has(pointer)) numberStrings.add(slot.key);
    }
  }
  const sorted = Object.fromEntries([...enums].sort(([a], [b]) => a.localeCompare(b)));
  const out = {
    source: `kubernetes-models ${pkg.version} (compiled validators of the Kubernetes OpenAPI document), probed by scripts/generate-kube-schema-extras.ts`,
    kubernetesVersion: generatedModels.kubernetesVersion,
    enums: sorted,
    numberStrings: [...numberStrings].sort(),
  };
  writeFileSync(path.join(outDir, 'builtin-schema-extras.json'), `${JSON.stringify(out, null, 1)}\n`);
  console.log(
    `${Object.keys(sorted).length} enums, ${numberStrings.size} number-or-string fields from ${kinds.length} kinds`,
  );
}

await main();
