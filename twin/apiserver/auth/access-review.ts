import type { ObjectStore } from '../../store/object-store.ts';
import { badRequest } from '../status-error.ts';
import type { Authenticator } from './authentication.ts';
import { type AccessAttributes, rbacAllows, rulesFor } from './rbac.ts';
import type { UserInfo } from './user-info.ts';

/**
 * The review APIs that are created and answered, never stored: SelfSubjectAccessReview (`kubectl auth
 * can-i`), SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview (`can-i --list`),
 * SelfSubjectReview (`kubectl auth whoami`) and TokenReview. Returns the object with its status, or
 * undefined when the resource is not one of them.
 * See https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
 */
export function answerReview(
  store: ObjectStore,
  authenticator: Authenticator,
  requester: UserInfo,
  group: string,
  resource: string,
  namespace: string,
  body: any,
): Record<string, unknown> | undefined {
  const spec = body?.spec ?? {};
  const decide = (user: UserInfo, ns: string) => {
    const attrs = spec.resourceAttributes;
    const nonRes = spec.nonResourceAttributes;
    if (!attrs && !nonRes)
      throw badRequest(
        'spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified',
      );
    const a: AccessAttributes = attrs
      ? {
          user,
          verb: attrs.verb ?? '',
          isResourceRequest: true,
          group: attrs.group ?? '',
          resource: attrs.resource ?? '',
          subresource: attrs.subresource ?? '',
          namespace: ns || attrs.namespace || '',
          name: attrs.name ?? '',
          path: '',
        }
      : {
          user,
          verb: nonRes.verb ?? '',
          isResourceRequest: false,
          group: '',
          resource: '',
          subresource: '',
          namespace: '',
          name: '',
          path: nonRes.path ?? '',
        };
    const allowed = rbacAllows(store, a);
    return allowed
      ? { allowed: true, reason: 'RBAC: allowed by a binding of the user or its groups' }
      : { allowed: false };
  };
  const out = (status: unknown) => ({ ...body, metadata: body?.metadata ?? {}, status });
  if (group === 'authorization.k8s.io') {
    switch (resource) {
      case 'selfsubjectaccessreviews':
        return out(decide(requester, ''));
      case 'subjectaccessreviews':
      case 'localsubjectaccessreviews': {
        const user: UserInfo = {
          username: spec.user ?? '',
          groups: spec.groups ?? [],
          ...(spec.uid ? { uid: spec.uid } : {}),
        };
        if (
          spec.user?.startsWith('system:serviceaccount:') &&
          !user.groups.includes('system:serviceaccounts')
        ) {
          const ns = spec.user.split(':')[2];
          user.groups.push('system:serviceaccounts', `system:serviceaccounts:${ns}`);
        }
        if (!user.groups.includes('system:authenticated') && user.username)
          user.groups.push('system:authenticated');
        return out(decide(user, resource === 'localsubjectaccessreviews' ? namespace : ''));
      }
      case 'selfsubjectrulesreviews': {
        const rules = rulesFor(store, requester, spec.namespace ?? '');
        return out({
          resourceRules: rules
            .filter((r: any) => r.resources)
            .map((r: any) => ({
              verbs: r.verbs ?? [],
              apiGroups: r.apiGroups ?? [],
              resources: r.resources ?? [],
              ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
            })),
          nonResourceRules: rules
            .filter((r: any) => r.nonResourceURLs)
            .map((r: any) => ({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs })),
          incomplete: false,
        });
      }
    }
  }
  if (group === 'authentication.k8s.io') {
    if (resource === 'selfsubjectreviews') return out({ userInfo: requester });
    if (resource === 'tokenreviews') {
      try {
        const audiences: string[] = spec.audiences ?? [];
        const user = authenticator.fromToken(String(spec.token ?? ''), audiences[0]);
        return out({ authenticated: true, user, audiences: audiences.length ? audiences : undefined });
      } catch {
        return out({ authenticated: false, user: {}, error: 'invalid bearer token' });
      }
    }
  }
  return undefined;
}
