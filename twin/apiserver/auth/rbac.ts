import type { KubeObject } from '../../../kube/object.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import type { UserInfo } from './user-info.ts';

/** What a request asks to do (authorizer.Attributes). */
export interface AccessAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** Non-resource requests: the URL path. */
  path: string;
}

interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const RBAC = 'rbac.authorization.k8s.io';

function subjectMatches(subject: any, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.username;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace ?? bindingNamespace;
      return user.username === `system:serviceaccount:${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

function has(list: string[] | undefined, value: string): boolean {
  return (list ?? []).some((v) => v === '*' || v === value);
}

/** rbac.RuleAllows: verb, group, resource (a subresource as "pods/log", or any resource's as "*" + "/scale"), name; or the non-resource URL. */
export function ruleAllows(rule: PolicyRule, a: AccessAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.isResourceRequest) {
    return (rule.nonResourceURLs ?? []).some(
      (u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))),
    );
  }
  if (!has(rule.apiGroups, a.group)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk = (rule.resources ?? []).some(
    (r) => r === '*' || r === combined || (a.subresource && r === `*/${a.subresource}`),
  );
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name);
}

/** The rules that apply to a user in a namespace ('' for cluster scope): its ClusterRoleBindings' and, in the namespace, its RoleBindings'. */
export function rulesFor(store: ObjectStore, user: UserInfo, namespace: string): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const roleRules = (ref: any, bindingNamespace?: string): PolicyRule[] => {
    if (ref?.kind === 'ClusterRole') {
      return (
        (store.peek({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', name: ref.name })?.[
          'rules'
        ] as PolicyRule[]) ?? []
      );
    }
    if (ref?.kind === 'Role' && bindingNamespace)
      return (
        (store.peek({
          apiVersion: `${RBAC}/v1`,
          kind: 'Role',
          namespace: bindingNamespace,
          name: ref.name,
        })?.['rules'] as PolicyRule[]) ?? []
      );
    return [];
  };
  for (const b of store.listShared(`${RBAC}/ClusterRoleBinding`)) {
    if (((b as KubeObject)['subjects'] as any[] | undefined)?.some((s) => subjectMatches(s, user, undefined)))
      rules.push(...roleRules((b as KubeObject)['roleRef']));
  }
  if (namespace) {
    for (const b of store.listShared(`${RBAC}/RoleBinding`, { namespace })) {
      if (
        ((b as KubeObject)['subjects'] as any[] | undefined)?.some((s) => subjectMatches(s, user, namespace))
      )
        rules.push(...roleRules((b as KubeObject)['roleRef'], namespace));
    }
  }
  return rules;
}

/**
 * The RBAC authorizer: allowed when a rule of a role bound to the user (or one of its groups, or its
 * ServiceAccount) allows the request. Namespaced requests also see RoleBindings of the namespace.
 * See https://kubernetes.io/docs/reference/access-authn-authz/rbac/
 */
export function rbacAllows(store: ObjectStore, a: AccessAttributes): boolean {
  return rulesFor(store, a.user, a.isResourceRequest ? a.namespace : '').some((r) => ruleAllows(r, a));
}

/** The authorizer's reason, as the 403 message carries it. */
export function forbiddenReason(a: AccessAttributes): string {
  const who = `User "${a.user.username}"`;
  if (!a.isResourceRequest) return `${who} cannot ${a.verb} path "${a.path}"`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `${who} cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`;
}
