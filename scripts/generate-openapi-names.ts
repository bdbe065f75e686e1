/**
 * Generates kube/api/builtin-definition-names.json: the upstream OpenAPI definition name of every
 * client-node model in kube/api/builtin-models.json ("V1Deployment" → "io.k8s.api.apps.v1.Deployment"),
 * which the API server's /openapi/v2 and /openapi/v3 documents use. client-node's model names drop the
 * Go package; the pinned kubernetes-models package names its schemas after the full definition names
 * (IoK8sApiAppsV1Deployment; apimachinery's in @kubernetes-models/apimachinery), so each model is matched by version and kind, and by group where
 * client-node prefixes one (CoreV1Event, RbacV1Subject). Run with `npm run generate:kube-api`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const schemaDirs = [
  path.join(root, 'node_modules', 'kubernetes-models', '_schemas'),
  path.join(root, 'node_modules', '@kubernetes-models', 'apimachinery', '_schemas'),
];
const pkg = JSON.parse(
  readFileSync(path.join(root, 'node_modules', 'kubernetes-models', 'package.json'), 'utf8'),
) as {
  version: string;
};
const models = JSON.parse(readFileSync(path.join(root, 'kube', 'api', 'builtin-models.json'), 'utf8')) as {
  models: Record<string, unknown>;
};

interface Upstream {
  name: string;
  group: string;
  version: string;
  kind: string;
}

const VERSION = 'V\\d+(?:alpha\\d+|beta\\d+)?';

/** "IoK8sApiAppsV1Deployment" → io.k8s.api.apps.v1.Deployment (and the apimachinery, apiextensions and aggregator packages). */
function upstreamOf(file: string): Upstream | undefined {
  const fixed: [RegExp, (m: RegExpExecArray) => Upstream][] = [
    [
      new RegExp(`^IoK8sApimachineryPkgApisMeta(${VERSION})(\\w+)$`),
      (m) => ({
        name: `io.k8s.apimachinery.pkg.apis.meta.${m[1]!.toLowerCase()}.${m[2]}`,
        group: 'meta',
        version: m[1]!,
        kind: m[2]!,
      }),
    ],
    [
      new RegExp(`^IoK8sApiextensionsApiserverPkgApisApiextensions(${VERSION})(\\w+)$`),
      (m) => ({
        name: `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${m[1]!.toLowerCase()}.${m[2]}`,
        group: 'apiextensions',
        version: m[1]!,
        kind: m[2]!,
      }),
    ],
    [
      new RegExp(`^IoK8sKubeAggregatorPkgApisApiregistration(${VERSION})(\\w+)$`),
      (m) => ({
        name: `io.k8s.kube-aggregator.pkg.apis.apiregistration.${m[1]!.toLowerCase()}.${m[2]}`,
        group: 'apiregistration',
        version: m[1]!,
        kind: m[2]!,
      }),
    ],
    [
      new RegExp(`^IoK8sApi([A-Z][a-z]+)(${VERSION})(\\w+)$`),
      (m) => ({
        name: `io.k8s.api.${m[1]!.toLowerCase()}.${m[2]!.toLowerCase()}.${m[3]}`,
        group: m[1]!.toLowerCase(),
        version: m[2]!,
        kind: m[3]!,
      }),
    ],
  ];
  for (const [re, f] of fixed) {
    const m = re.exec(file);
    if (m) return f(m);
  }
  return undefined;
}

const upstream = schemaDirs
  .flatMap((d) => readdirSync(d))
  .filter((f) => f.endsWith('.js'))
  .map((f) => upstreamOf(f.slice(0, -3)))
  .filter((u): u is Upstream => u !== undefined);

const names: Record<string, string> = {};
const unmatched: string[] = [];
for (const model of Object.keys(models.models)) {
  const m = new RegExp(`^([A-Z][a-z]+)?(${VERSION})(\\w+)$`).exec(model);
  if (!m) {
    unmatched.push(model);
    continue;
  }
  const [, prefix, version, kind] = m;
  let candidates = upstream.filter((u) => u.version === version && u.kind === kind);
  if (prefix) candidates = candidates.filter((u) => u.group === prefix.toLowerCase());
  if (candidates.length > 1) candidates = candidates.filter((u) => u.group !== 'extensions');
  if (candidates.length === 1) names[model] = candidates[0]!.name;
  else unmatched.push(`${model} (${candidates.map((c) => c.name).join(', ') || 'no match'})`);
}
const out = path.join(
  process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'kube', 'api'),
  'builtin-definition-names.json',
);
writeFileSync(
  out,
  `${JSON.stringify({ source: `kubernetes-models ${pkg.version} and @kubernetes-models/apimachinery schema names`, names, unmatched }, null, 1)}\n`,
);
console.log(
  `${Object.keys(names).length} definition names, ${unmatched.length} unmatched: ${unmatched.join('; ')}`,
);
