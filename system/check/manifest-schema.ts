import { manifestControllerProblems } from '../addons/manifest-controllers.ts';
import { manifestProblems } from '../render/manifest-validation.ts';
import { maxReplicasFromEnv } from '../render/twin-limits.ts';
import type { CheckContext } from './check-context.ts';
import type { Finding } from './finding.ts';

/**
 * What the API server of the profile's cluster, with the add-ons it installs, refuses: schema and
 * strict field validation, CRDs missing ("no matches for kind"), namespaces that do not exist, the
 * add-on controllers' own checks (system/render/manifest-validation.ts, the same checks `twin up`
 * stops at), and add-ons whose controller the manifests should deploy but do not. All of them, not
 * the first. Runs first: it defaults the namespaces of namespaced objects, as kubectl apply does.
 */
export function manifestSchemaFindings(ctx: CheckContext): Finding[] {
  const problems = manifestProblems(ctx.rendered, {
    addons: ctx.addons,
    addonsFile: ctx.addonsFile,
    cwd: ctx.layout.root,
    maxReplicas: maxReplicasFromEnv(),
  });
  const out: Finding[] = problems.map((p) => ({
    severity: 'error',
    check: 'schema',
    source: p.source,
    ...(p.line === undefined ? {} : { line: p.line }),
    ...(p.object ? { object: p.object } : {}),
    ...(p.field ? { field: p.field } : {}),
    message: p.message,
    cluster: clusterAnswer(p.message),
  }));
  for (const { addon, message } of manifestControllerProblems(ctx.addons, ctx.rendered))
    out.push({
      severity: 'error',
      check: 'schema',
      ...ctx.atAddon(addon),
      message,
      cluster: `the CRDs of ${addon.title} ${addon.version} are installed, but no controller of that release runs: its custom resources are stored and never acted on`,
    });
  return out;
}

function clusterAnswer(message: string): string {
  if (message.startsWith('no matches for kind'))
    return 'kubectl apply fails with "resource mapping not found … ensure CRDs are installed first" and creates nothing of it';
  if (/^namespaces ".*" not found/.test(message))
    return 'the API server answers NotFound (NamespaceLifecycle) and creates nothing of it';
  if (message.startsWith('is also defined in'))
    return 'kubectl apply applies both definitions in turn: the later one silently replaces the earlier';
  return 'the API server refuses the object (422 Invalid, strict field validation) and kubectl apply creates nothing of it';
}
