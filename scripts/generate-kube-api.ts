/**
 * Generates kube/api/builtin-resources.json and kube/api/builtin-models.json from the pinned
 * @kubernetes/client-node package, which is generated from the upstream Kubernetes OpenAPI
 * document (its "OpenAPI spec version" header names the Kubernetes release). Run with
 * `npm run generate:kube-api`; test/kube/api/generated.test.ts fails when the files are stale.
 *
 * - resources: every REST path of the request factories (group, version, plural, scope, verbs,
 *   subresources) with the kind each path returns, for the GA versions a default API server serves;
 * - models: every object schema reachable from those kinds: description, properties (JSON name,
 *   type, format, description) and required fields, taken from the generated classes.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');
const gen = path.join(root, 'node_modules', '@kubernetes', 'client-node', 'dist', 'gen');
const pkg = JSON.parse(
  readFileSync(path.join(root, 'node_modules', '@kubernetes', 'client-node', 'package.json'), 'utf8'),
) as { version: string };

export interface GeneratedResource {
  group: string;
  version: string;
  /** Plural resource name ("deployments"). */
  name: string;
  kind: string;
  /** The client-node model of the kind (key into the models file). */
  model: string;
  namespaced: boolean;
  verbs: string[];
  subresources: { name: string; kind: string; model: string; verbs: string[] }[];
}

export interface GeneratedProperty {
  type: string;
  format?: string;
  description?: string;
}

export interface GeneratedModel {
  description?: string;
  properties: Record<string, GeneratedProperty>;
  required: string[];
}

/** Only the GA versions, which a default kube-apiserver serves (betas are off unless enabled). */
const SERVED_VERSION = /^v\d+$/;

function read(file: string): string {
  return readFileSync(file, 'utf8');
}

function specLabel(): string {
  return /OpenAPI spec version: (\S+)/.exec(read(path.join(gen, 'models', 'V1Pod.js')))![1]!;
}

/** The spec's release: "v1.34.0" or "release-1.36" (a release branch: its .0 is named). */
function specVersion(): string {
  const m = /OpenAPI spec version: (?:v(\d+\.\d+\.\d+)|release-(\d+\.\d+))/.exec(
    read(path.join(gen, 'models', 'V1Pod.js')),
  );
  if (!m) throw new Error('cannot find the OpenAPI spec version in V1Pod.js');
  return m[1] ? `v${m[1]}` : `v${m[2]}.0`;
}

/** method name → { http method, path } from a request factory's compiled JavaScript. */
function requestPaths(js: string): Map<string, { method: string; path: string }> {
  const out = new Map<string, { method: string; path: string }>();
  const re =
    /\n {4}async (\w+)\([^)]*\) \{[\s\S]*?const localVarPath = '([^']+)'[\s\S]*?makeRequestContext\(localVarPath, HttpMethod\.(\w+)\)/g;
  for (const m of js.matchAll(re)) out.set(m[1]!, { method: m[3]!, path: m[2]! });
  return out;
}

/** method name → model name returned, from a response processor's declaration. */
function returnModels(dts: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of dts.matchAll(
    / {4}(\w+)WithHttpInfo\(response: ResponseContext\): Promise<HttpInfo<(\w+)>>/g,
  ))
    out.set(m[1]!, m[2]!);
  return out;
}

const VERB_OF: Record<string, string> = {
  create: 'create',
  delete: 'delete',
  deleteCollection: 'deletecollection',
  list: 'list',
  patch: 'patch',
  read: 'get',
  replace: 'update',
};

function collectResources(): GeneratedResource[] {
  const byKey = new Map<string, GeneratedResource>();
  const apis = path.join(gen, 'apis');
  for (const file of readdirSync(apis).filter((f) => /^\w+V\d\w*Api\.js$/.test(f))) {
    const paths = requestPaths(read(path.join(apis, file)));
    const returns = returnModels(read(path.join(apis, file.replace(/\.js$/, '.d.ts'))));
    for (const [method, { path: p }] of paths) {
      const m =
        /^\/(?:api\/(v\d\w*)|apis\/([^/]+)\/(v\d\w*))(\/namespaces\/\{namespace\})?\/([a-z0-9]+)(\/\{name\})?(?:\/([a-z]+))?$/.exec(
          p,
        );
      if (!m) continue;
      const [, coreVersion, group = '', groupVersion, nsPart, plural, namePart, sub] = m;
      const version = (coreVersion ?? groupVersion)!;
      if (!SERVED_VERSION.test(version)) continue;
      const verbMatch =
        /^(create|deleteCollection|delete|list|patch|read|replace|connect\w+?)(?:Namespaced)?/.exec(method);
      if (!verbMatch) continue;
      const verbName = verbMatch[1]!;
      const key = `${group}/${version}/${plural}`;
      const returned = returns.get(method);
      let r = byKey.get(key);
      if (!r) {
        r = {
          group,
          version,
          name: plural!,
          kind: '',
          model: '',
          namespaced: false,
          verbs: [],
          subresources: [],
        };
        byKey.set(key, r);
      }
      if (nsPart) r.namespaced = true;
      if (sub) {
        if (!namePart) continue;
        let s = r.subresources.find((x) => x.name === sub);
        if (!s) {
          s = { name: sub, kind: '', model: '', verbs: [] };
          r.subresources.push(s);
        }
        const v = verbName.startsWith('connect') ? connectVerb(verbName) : VERB_OF[verbName];
        if (v && !s.verbs.includes(v)) s.verbs.push(v);
        if (
          returned &&
          returned !== 'string' &&
          !s.model &&
          (verbName === 'read' || verbName === 'replace' || verbName === 'create')
        )
          s.model = returned;
        continue;
      }
      const v = VERB_OF[verbName];
      if (!v) continue;
      if (!r.verbs.includes(v)) r.verbs.push(v);
      if ((verbName === 'read' || verbName === 'create' || verbName === 'replace') && returned && !r.model)
        r.model = returned;
    }
  }
  const out = [...byKey.values()].filter((r) => r.model && r.verbs.length > 0);
  for (const r of out) {
    if (r.verbs.includes('list')) r.verbs.push('watch');
    r.verbs.sort();
    r.kind = kindOfModel(r.model);
    for (const s of r.subresources) {
      s.verbs.sort();
      s.kind = s.model ? kindOfModel(s.model) : '';
    }
    r.subresources.sort((a, b) => a.name.localeCompare(b.name));
  }
  return out.sort((a, b) =>
    `${a.group}/${a.version}/${a.name}`.localeCompare(`${b.group}/${b.version}/${b.name}`),
  );
}

function connectVerb(name: string): string | undefined {
  const m = /^connect(Get|Post|Put|Delete|Patch|Head|Options)/.exec(name);
  return m ? m[1]!.toLowerCase() : undefined;
}

/** "V1Deployment" → "Deployment", "CoreV1Event" → "Event", "V1beta1X" → "X". */
function kindOfModel(model: string): string {
  return model.replace(/^(?:[A-Z][a-z]+)*V\d+(?:alpha\d+|beta\d+)?/, '');
}

function collectModels(roots: string[]): Record<string, GeneratedModel> {
  const models: Record<string, GeneratedModel> = {};
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (models[name]) continue;
    const file = path.join(gen, 'models', `${name}.d.ts`);
    let text: string;
    try {
      text = read(file);
    } catch {
      continue;
    }
    const model = parseModel(name, text, read(path.join(gen, 'models', `${name}.js`)));
    models[name] = model;
    for (const p of Object.values(model.properties))
      for (const ref of p.type.match(/\b(?:[A-Z][a-z]+)*V\d+\w*\b/g) ?? []) if (!models[ref]) queue.push(ref);
  }
  return Object.fromEntries(Object.entries(models).sort(([a], [b]) => a.localeCompare(b)));
}

function parseModel(name: string, dts: string, js: string): GeneratedModel {
  const source = ts.createSourceFile(`${name}.d.ts`, dts, ts.ScriptTarget.ES2022, true);
  const types = new Map<string, { type: string; format: string; baseName: string }>();
  const mapText = /\.attributeTypeMap = (\[[\s\S]*?\]);/.exec(js)?.[1];
  if (mapText)
    for (const a of JSON.parse(mapText) as { name: string; baseName: string; type: string; format: string }[])
      types.set(a.name, a);
  const model: GeneratedModel = { properties: {}, required: [] };
  source.forEachChild((node) => {
    if (!ts.isClassDeclaration(node) || node.name?.text !== name) return;
    const doc = jsDoc(node);
    if (doc) model.description = doc;
    for (const member of node.members) {
      if (!ts.isPropertyDeclaration(member) || !member.name) continue;
      if (member.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword)) continue;
      const tsName = ts.isStringLiteral(member.name) ? member.name.text : member.name.getText(source);
      const attr = types.get(tsName);
      if (!attr) continue;
      const prop: GeneratedProperty = { type: attr.type };
      if (attr.format) prop.format = attr.format;
      const d = jsDoc(member);
      if (d) prop.description = d;
      model.properties[attr.baseName] = prop;
      if (!member.questionToken) model.required.push(attr.baseName);
    }
  });
  return model;
}

/**
 * The comment of the JSDoc block right before the declaration. Only the last one: the first class of
 * each generated file also carries the generator's file header ("Kubernetes\nNo description
 * provided (generated by Openapi Generator …)"), a block of its own that documents nothing.
 */
function jsDoc(node: ts.Node): string | undefined {
  const last = (node as { jsDoc?: ts.JSDoc[] }).jsDoc?.at(-1);
  const text = (typeof last?.comment === 'string' ? last.comment : '').trim();
  return text ? text.replace(/\\"/g, '"').replace(/\\'/g, "'") : undefined;
}

const resources = collectResources();
const roots = new Set<string>();
for (const r of resources) {
  roots.add(r.model);
  roots.add(`${r.model}List`);
  for (const s of r.subresources) if (s.model) roots.add(s.model);
}
for (const extra of [
  'V1Status',
  'V1DeleteOptions',
  'V1APIResourceList',
  'V1APIGroupList',
  'V1WatchEvent',
  'V1Eviction',
  'V1Scale',
])
  roots.add(extra);
const models = collectModels([...roots]);
const header = {
  source: `@kubernetes/client-node ${pkg.version}, generated from the Kubernetes OpenAPI document of ${specLabel()}`,
  kubernetesVersion: specVersion(),
};
const outDir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'kube', 'api');
writeFileSync(
  path.join(outDir, 'builtin-resources.json'),
  `${JSON.stringify({ ...header, resources }, null, 1)}\n`,
);
writeFileSync(path.join(outDir, 'builtin-models.json'), `${JSON.stringify({ ...header, models })}\n`);
console.log(`${resources.length} resources, ${Object.keys(models).length} models (${header.source})`);
