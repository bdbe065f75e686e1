import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ObjectStore } from '../../store/object-store.ts';
import { unauthorized } from '../status-error.ts';
import type { ServiceAccountTokens } from './service-account-tokens.ts';
import { ANONYMOUS, type UserInfo } from './user-info.ts';

/**
 * kube-apiserver's authenticators, in its order: a client certificate the cluster CA signed (user =
 * CN, groups = O: the kubeconfig's admin is in system:masters), then a bearer token (a bound service
 * account token: the ServiceAccount, and the pod it is bound to, must still exist with the uids in the
 * token). A request with neither is anonymous; one with a token that does not verify is 401.
 * See https://kubernetes.io/docs/reference/access-authn-authz/authentication/
 */
export class Authenticator {
  constructor(
    private readonly store: ObjectStore,
    private readonly tokens: ServiceAccountTokens,
  ) {}

  authenticate(req: IncomingMessage): UserInfo {
    const socket = req.socket as TLSSocket;
    if (socket.authorized) {
      const subject = socket.getPeerCertificate()?.subject as unknown as
        | Record<string, string | string[]>
        | undefined;
      const cn = subject?.['CN'];
      if (cn) {
        const orgs = subject?.['O'];
        const groups = Array.isArray(orgs) ? orgs : orgs ? [orgs] : [];
        return { username: String(cn), groups: [...groups, 'system:authenticated'] };
      }
    }
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) return this.fromToken(header.slice(7).trim());
    return ANONYMOUS;
  }

  /** The user of a bearer token (TokenReview uses this too); 401 when the token is not valid. */
  fromToken(token: string, audience?: string): UserInfo {
    const claims = this.tokens.verify(token, audience);
    if (!claims) throw unauthorized();
    const k = claims['kubernetes.io'];
    const sa = this.store.peek({
      kind: 'ServiceAccount',
      namespace: k.namespace,
      name: k.serviceaccount.name,
    });
    if (!sa || sa.metadata.uid !== k.serviceaccount.uid) throw unauthorized();
    if (k.pod) {
      const pod = this.store.peek({ kind: 'Pod', namespace: k.namespace, name: k.pod.name });
      if (!pod || pod.metadata.uid !== k.pod.uid) throw unauthorized();
    }
    return {
      username: claims.sub,
      uid: k.serviceaccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
      ...(k.pod
        ? {
            extra: {
              'authentication.kubernetes.io/pod-name': [k.pod.name],
              'authentication.kubernetes.io/pod-uid': [k.pod.uid],
            },
          }
        : {}),
    };
  }
}
