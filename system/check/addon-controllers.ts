import { ADDON_CATALOGUE, type AddonEntry } from '../addons/addon-catalogue.ts';
import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';
import { containersOf, podTemplates } from './pod-templates.ts';

function catalogueEntryOfImage(image: string): AddonEntry | undefined {
  return ADDON_CATALOGUE.find((e) => e.controllerImages.some((repo) => image.startsWith(`${repo}:`)));
}

/** Whether some RoleBinding or ClusterRoleBinding of the manifests binds the ServiceAccount. */
function isBound(ctx: CheckContext, ns: string, sa: string): boolean {
  return ctx.objects.some((b) => {
    if (
      b.apiVersion !== 'rbac.authorization.k8s.io/v1' ||
      (b.kind !== 'RoleBinding' && b.kind !== 'ClusterRoleBinding')
    )
      return false;
    return ((b['subjects'] ?? []) as any[]).some(
      (s) =>
        (s?.kind === 'ServiceAccount' &&
          s.name === sa &&
          (s.namespace ?? (b.kind === 'RoleBinding' ? b.metadata.namespace : undefined)) === ns) ||
        (s?.kind === 'Group' &&
          (s.name === 'system:serviceaccounts' || s.name === `system:serviceaccounts:${ns}`)),
    );
  });
}

/**
 * The platform add-ons' controllers as a cluster of the profile runs them: add-ons of addons.yaml the
 * profile's cluster does not install (a note: it says why), controllers the manifests deploy that need
 * a cloud the cluster does not have (the AWS Load Balancer Controller on k3s), and controllers the
 * manifests deploy without any RBAC binding for their ServiceAccount (an add-on's own install brings
 * its ClusterRoles and bindings; manifests that deploy the controller must too).
 */
export function addonControllerFindings(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const { addon, why } of ctx.leftOutAddons)
    out.push({
      severity: 'note',
      check: 'addons',
      ...ctx.atAddon(addon),
      message: `${addon.title} ${addon.version} is not installed on ${ctx.profile.title}: ${why}`,
      cluster: `has no ${addon.title} from this list${addon.entry.groups.length > 0 ? `: its kinds (${addon.entry.groups.join(', ')}) are not served` : ''}`,
    });
  for (const t of podTemplates(ctx.rendered)) {
    for (const { c, path } of containersOf(t)) {
      const entry = typeof c?.image === 'string' ? catalogueEntryOfImage(c.image) : undefined;
      if (!entry) continue;
      if (entry.cloud && entry.cloud !== ctx.profile.cloud) {
        out.push(
          objectFinding(ctx, t.r, {
            severity: 'error',
            check: 'addons',
            field: `${path}.image`,
            message: `runs the ${entry.title} (${c.image}), which needs the ${entry.cloud.toUpperCase()} APIs and IAM roles for service accounts; a ${ctx.profile.title} cluster has neither`,
            cluster: `the controller cannot reach ${entry.cloud.toUpperCase()} (no credentials, no instance metadata): it crash-loops (CrashLoopBackOff), and its webhooks, if registered, refuse the objects they guard`,
          }),
        );
        continue;
      }
      if (entry.groups.length > 0 && !ctx.addons.some((a) => a.name === entry.name))
        out.push(
          objectFinding(ctx, t.r, {
            severity: 'error',
            check: 'addons',
            field: `${path}.image`,
            message: `runs ${entry.title} (${c.image}), but ${ctx.addonsFile} does not install ${entry.name} on ${ctx.profile.title}: nothing creates its CustomResourceDefinitions (${entry.groups.join(', ')}); list it there (controller: manifests keeps this Deployment) or apply its CRDs`,
            cluster: `the controller's watches of ${entry.groups.join(', ')} fail ("the server could not find the requested resource"): it never syncs and restarts; every object of those groups is refused ("no matches for kind … ensure CRDs are installed first")`,
          }),
        );
      const sa: string = t.spec?.serviceAccountName ?? t.spec?.serviceAccount ?? 'default';
      if (!isBound(ctx, t.namespace, sa))
        out.push(
          objectFinding(ctx, t.r, {
            severity: 'error',
            check: 'addons',
            field: `${t.specPath}.serviceAccountName`,
            message: `runs ${entry.title} (${c.image}) as ServiceAccount ${t.namespace}/${sa}, which no RoleBinding or ClusterRoleBinding of the manifests binds (its ClusterRoles, bindings and webhook configuration come with the add-on's install: use controller: addon in ${ctx.addonsFile}, or write them)`,
            cluster: `every request of the controller to the API server is Forbidden (User "system:serviceaccount:${t.namespace}:${sa}" cannot list resource …): it never syncs, fails its leader election and health checks, and restarts`,
          }),
        );
    }
  }
  return out;
}
