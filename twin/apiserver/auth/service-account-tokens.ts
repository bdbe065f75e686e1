import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
  verify,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The issuer and default audience of the twin's service account tokens, as a cluster's are by default. */
export const TOKEN_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    node?: { name: string; uid: string };
    warnafter?: number;
  };
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * Bound service account tokens (JWTs signed ES256 with the work directory's service-account key), as
 * the TokenRequest API issues them and the kubelet projects them into pods: subject
 * `system:serviceaccount:<namespace>:<name>`, bound to the ServiceAccount's uid and, for a pod's
 * token, the pod's. See https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-token-volume
 *
 * Twin simplification: expiry is in real time (live processes read their tokens in real time), while
 * object timestamps are in control-plane time.
 */
export class ServiceAccountTokens {
  private readonly kid: string;

  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
  ) {
    this.kid = b64url(
      createHash('sha256')
        .update(publicKey.export({ type: 'spki', format: 'der' }))
        .digest(),
    );
  }

  /** The key in `<dir>/service-account.key`, made on first use. */
  static async load(dir: string): Promise<ServiceAccountTokens> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'service-account.key');
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      await writeFile(file, pem, { mode: 0o600 });
    }
    const privateKey = createPrivateKey(pem);
    return new ServiceAccountTokens(privateKey, createPublicKey(privateKey));
  }

  issue(options: {
    namespace: string;
    serviceAccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    audiences?: string[];
    expirationSeconds?: number;
    nowSeconds?: number;
  }): { token: string; claims: TokenClaims } {
    const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
    const exp = now + (options.expirationSeconds ?? 3600);
    const claims: TokenClaims = {
      aud: options.audiences && options.audiences.length > 0 ? options.audiences : [TOKEN_ISSUER],
      exp,
      iat: now,
      iss: TOKEN_ISSUER,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace: options.namespace,
        ...(options.pod ? { pod: options.pod } : {}),
        serviceaccount: options.serviceAccount,
      },
      nbf: now,
      sub: `system:serviceaccount:${options.namespace}:${options.serviceAccount.name}`,
    };
    const head = b64url(JSON.stringify({ alg: 'ES256', kid: this.kid }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign('sha256', Buffer.from(`${head}.${body}`), {
      key: this.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return { token: `${head}.${body}.${b64url(sig)}`, claims };
  }

  /** The claims of a token this key signed that has not expired and is meant for `audience`; undefined otherwise. */
  verify(
    token: string,
    audience = TOKEN_ISSUER,
    nowSeconds = Math.floor(Date.now() / 1000),
  ): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [head, body, sig] = parts as [string, string, string];
    const ok = verify(
      'sha256',
      Buffer.from(`${head}.${body}`),
      { key: this.publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(sig, 'base64url'),
    );
    if (!ok) return undefined;
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return undefined;
    }
    if (claims.iss !== TOKEN_ISSUER || claims.exp < nowSeconds || claims.nbf > nowSeconds + 60)
      return undefined;
    if (!claims.aud.includes(audience)) return undefined;
    return claims;
  }
}
