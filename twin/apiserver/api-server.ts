import { rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KUBERNETES_VERSION } from '../../kube/api/api-resources.ts';
import { apiVersionOf, type ServedResource } from '../../kube/api/resource-registry.ts';
import type { Clock } from '../../kube/clock.ts';
import type { KubeObject, ObjectRef } from '../../kube/object.ts';
import type { EventRecorder } from '../store/event-recorder.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { Admission, NO_SCHEMA_VALIDATION, type ValidateObject } from './admission.ts';
import { answerReview } from './auth/access-review.ts';
import { Authenticator } from './auth/authentication.ts';
import { bootstrapPolicy } from './auth/bootstrap-policy.ts';
import { type AccessAttributes, forbiddenReason, rbacAllows } from './auth/rbac.ts';
import { ServiceAccountTokens } from './auth/service-account-tokens.ts';
import type { UserInfo } from './auth/user-info.ts';
import {
  type CertificateAuthority,
  ensureCertificateAuthority,
  issueCertificate,
  type KeyPairPem,
} from './certificates.ts';
import {
  acceptsAggregated,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
} from './discovery.ts';
import { mediaType, parseBody, readBody, sendError, sendJson, sendText } from './http-io.ts';
import { kubeconfigText, writeKubeconfig } from './kubeconfig.ts';
import { hashDocument, openApiV2, openApiV3GroupVersion, openApiV3Index } from './openapi.ts';
import { jsonMergePatch } from './patch/json-merge-patch.ts';
import { jsonPatch } from './patch/json-patch.ts';
import { strategicMergePatch } from './patch/strategic-merge-patch.ts';
import { type RequestInfo, requestInfo } from './request-info.ts';
import { isDryRun, type RequestTarget, ResourceHandler } from './resource-handler.ts';
import { builtinSchema } from './schema/schema-node.ts';
import { ServedResources } from './served-resources.ts';
import {
  badRequest,
  conflict,
  forbidden,
  methodNotSupported,
  notFound,
  OBJECT_MODIFIED,
  pathNotFound,
  StatusError,
} from './status-error.ts';
import { containerOf, type PodLogSource, writePodLog } from './subresources/pod-log.ts';
import { scaleOf, withReplicas } from './subresources/scale.ts';
import { WatchHub } from './watch.ts';

/** The eviction API's answer (twin/nodes/eviction.ts evictPod). */
export interface EvictionAnswer {
  code: 200 | 404 | 429 | 500;
  message: string;
}

export interface ApiServerOptions {
  store: ObjectStore;
  clock: Clock;
  events: EventRecorder;
  /** Where the CA, keys and certificates are kept (one CA per directory). */
  pkiDir: string;
  /** Where the kubeconfig is written. */
  kubeconfigFile: string;
  logs?: PodLogSource;
  evict?: (ref: ObjectRef) => EvictionAnswer;
  /** Schema validation of every write (kube/schema validateObject); none by default. */
  validate?: ValidateObject;
  /** RBAC: `warn` records a Warning Event for each request RBAC would forbid and serves it; `enforce` answers 403. */
  rbac?: 'warn' | 'enforce';
  /** How often watches that allow bookmarks get one (real ms). */
  bookmarkIntervalMs?: number;
  log?: (message: string) => void;
}

/** Names the serving certificate holds, as kube-apiserver's does. */
const SERVING_NAMES = [
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

/**
 * The twin's API server: the Kubernetes REST API over HTTPS on loopback, backed by the object store,
 * for kubectl, client libraries and live pods. It serves discovery (also aggregated), OpenAPI v2 and
 * v3, /version and the health endpoints; per resource get, list, watch, create, update, patch (JSON,
 * merge, strategic merge, server-side apply), delete and deletecollection, Table output, the status,
 * scale, log, eviction, binding and token subresources, and the access review APIs. Requests are
 * authenticated (client certificates of the twin's CA, service account tokens) and checked by RBAC.
 * See docs/kubernetes-api.md for what is served and what is not.
 */
export class ApiServer {
  readonly served: ServedResources;
  private readonly admission: Admission;
  private readonly hub: WatchHub;
  private readonly handler: ResourceHandler;
  private server: Server | undefined;
  private authenticator!: Authenticator;
  tokens!: ServiceAccountTokens;
  caPem = '';
  url = '';
  private readonly rbacWarned = new Map<string, number>();
  private openapiCache: {
    generation: number;
    docs: Map<string, { text: string; hash: string }>;
    v2?: string;
  } = {
    generation: -1,
    docs: new Map(),
  };

  constructor(private readonly options: ApiServerOptions) {
    this.served = new ServedResources(options.store);
    this.admission = new Admission(
      options.store,
      this.served.registry,
      options.validate ?? NO_SCHEMA_VALIDATION,
    );
    this.hub = new WatchHub(options.store);
    this.handler = new ResourceHandler(
      options.store,
      options.clock,
      this.admission,
      this.hub,
      options.bookmarkIntervalMs ?? 10_000,
    );
  }

  get kubeconfigFile(): string {
    return this.options.kubeconfigFile;
  }

  /** The number of open watches. */
  get watches(): number {
    return this.hub.size;
  }

  private prepared: Promise<{ ca: CertificateAuthority; admin: KeyPairPem }> | undefined;

  /**
   * Makes (or loads) the CA, the service account key and the admin's certificate; `start` waits for
   * it. Called early, it overlaps with the rest of the twin's start.
   */
  prepare(): Promise<{ ca: CertificateAuthority; admin: KeyPairPem }> {
    this.prepared ??= (async () => {
      const [ca, tokens] = await Promise.all([
        ensureCertificateAuthority(this.options.pkiDir),
        ServiceAccountTokens.load(this.options.pkiDir),
      ]);
      this.tokens = tokens;
      this.caPem = ca.certPem;
      this.authenticator = new Authenticator(this.options.store, tokens);
      const admin = await issueCertificate(ca, {
        commonName: 'twin-admin',
        organizations: ['system:masters'],
        usage: 'client',
      });
      return { ca, admin };
    })();
    return this.prepared;
  }

  /** Listens on 127.0.0.1; `serviceIp` (the `kubernetes` Service's ClusterIP) goes into the serving certificate, as on a cluster. */
  async start(options: { serviceIp?: string } = {}): Promise<void> {
    const { store } = this.options;
    const { ca, admin } = await this.prepare();
    const serving = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: SERVING_NAMES,
      ips: ['127.0.0.1', ...(options.serviceIp ? [options.serviceIp] : [])],
      usage: 'server',
    });
    for (const o of bootstrapPolicy())
      if (!store.peek({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name })) store.create(o);
    this.served.start();
    const server = createServer(
      {
        cert: serving.certPem,
        key: serving.keyPem,
        ca: ca.certPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => void this.route(req, res),
    );
    server.keepAliveTimeout = 60_000;
    server.headersTimeout = 65_000;
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.url = `https://127.0.0.1:${port}`;
    await writeKubeconfig(
      this.options.kubeconfigFile,
      kubeconfigText({
        server: this.url,
        caPem: ca.certPem,
        clientCertPem: admin.certPem,
        clientKeyPem: admin.keyPem,
      }),
    );
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  async stop(): Promise<void> {
    this.hub.stop();
    this.served.stop();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await rm(this.options.kubeconfigFile, { force: true });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'https://twin');
      const urlPath = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
      const user = this.impersonate(req, this.authenticator.authenticate(req));
      const info = requestInfo(req.method ?? 'GET', urlPath, url.searchParams);
      this.authorize(user, info);
      if (!info.isResourceRequest) {
        this.nonResource(req, res, urlPath, url);
        return;
      }
      await this.resource(req, res, url, info, user);
    } catch (err) {
      if (!(err instanceof StatusError))
        this.options.log?.(`apiserver: ${req.method} ${req.url}: ${(err as Error)?.stack ?? err}`);
      sendError(res, err);
    }
  }

  /**
   * User impersonation (`kubectl --as`, `--as-group`): the Impersonate-* headers name the user the
   * request acts as, if the requester may `impersonate` it (and each group).
   * See https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation
   */
  private impersonate(req: IncomingMessage, user: UserInfo): UserInfo {
    const target = req.headers['impersonate-user'];
    if (typeof target !== 'string' || target === '') return user;
    const groupHeader = req.headers['impersonate-group'];
    const groups = (Array.isArray(groupHeader) ? groupHeader : groupHeader ? [groupHeader] : []).flatMap(
      (g) => g.split(',').map((x) => x.trim()),
    );
    const may = (resource: string, name: string, namespace = '') => {
      const a: AccessAttributes = {
        user,
        verb: 'impersonate',
        isResourceRequest: true,
        group: '',
        resource,
        subresource: '',
        namespace,
        name,
        path: '',
      };
      if (user.groups.includes('system:masters') || rbacAllows(this.options.store, a)) return;
      throw forbidden({ group: '', resource }, name, forbiddenReason(a));
    };
    const sa = /^system:serviceaccount:([^:]+):(.+)$/.exec(target);
    if (sa) may('serviceaccounts', sa[2]!, sa[1]!);
    else may('users', target);
    for (const g of groups) may('groups', g);
    const all = [...groups];
    if (sa) all.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
    if (!all.includes('system:authenticated') && target !== 'system:anonymous')
      all.push('system:authenticated');
    return { username: target, groups: all };
  }

  /**
   * RBAC. Anonymous requests are always held to it (only health and version are public); for
   * authenticated users `warn` mode records a Warning Event naming what RBAC would forbid.
   */
  private authorize(user: UserInfo, info: RequestInfo): void {
    const { store } = this.options;
    const a: AccessAttributes = {
      user,
      verb: info.isResourceRequest ? info.verb : info.verb === 'head' ? 'get' : info.verb,
      isResourceRequest: info.isResourceRequest,
      group: info.group,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
      path: info.path,
    };
    if (user.groups.includes('system:masters')) return;
    if (rbacAllows(store, a)) return;
    const reason = forbiddenReason(a);
    const anonymous = user.groups.includes('system:unauthenticated');
    if (anonymous || this.options.rbac === 'enforce') {
      if (!info.isResourceRequest) throw new StatusError(403, 'Forbidden', `forbidden: ${reason}`, {});
      throw forbidden(
        {
          group: info.group,
          resource: info.subresource ? `${info.resource}/${info.subresource}` : info.resource,
        },
        info.name,
        reason,
      );
    }
    this.warnForbidden(user, info, reason);
  }

  private warnForbidden(user: UserInfo, info: RequestInfo, reason: string): void {
    const now = Date.now();
    const last = this.rbacWarned.get(reason);
    if (last !== undefined && now - last < 60_000) return;
    this.rbacWarned.set(reason, now);
    const sa = /^system:serviceaccount:([^:]+):(.+)$/.exec(user.username);
    const involved: KubeObject | undefined = sa
      ? (this.options.store.get({
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          namespace: sa[1]!,
          name: sa[2]!,
        }) ?? undefined)
      : undefined;
    const ns = involved?.metadata.namespace ?? (info.namespace || 'default');
    this.options.events.record(
      involved ??
        ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, namespace: ns } } as KubeObject),
      'Warning',
      'RBACWouldForbid',
      `RBAC would forbid this request (served: RBAC is not enforced): ${reason}`,
      'kube-apiserver',
    );
  }

  private nonResource(req: IncomingMessage, res: ServerResponse, urlPath: string, url: URL): void {
    const resources = this.served.all();
    const accept = req.headers.accept;
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotSupported();
    const aggregated = acceptsAggregated(accept);
    switch (urlPath) {
      case '/':
        sendJson(res, 200, {
          paths: [
            '/api',
            '/api/v1',
            '/apis',
            '/healthz',
            '/livez',
            '/openapi/v2',
            '/openapi/v3',
            '/readyz',
            '/version',
          ],
        });
        return;
      case '/api':
        if (aggregated) {
          sendJson(res, 200, aggregatedDiscovery(resources, true, aggregated), {
            'Content-Type': `application/json;g=apidiscovery.k8s.io;v=${aggregated};as=APIGroupDiscoveryList`,
            Vary: 'Accept',
          });
          return;
        }
        sendJson(res, 200, apiVersions(`127.0.0.1:${this.port}`));
        return;
      case '/apis':
        if (aggregated) {
          sendJson(res, 200, aggregatedDiscovery(resources, false, aggregated), {
            'Content-Type': `application/json;g=apidiscovery.k8s.io;v=${aggregated};as=APIGroupDiscoveryList`,
            Vary: 'Accept',
          });
          return;
        }
        sendJson(res, 200, apiGroupList(resources));
        return;
      case '/version': {
        const [major, minor] = KUBERNETES_VERSION.replace(/^v/, '').split('.');
        sendJson(res, 200, {
          major,
          minor,
          emulationMajor: major,
          emulationMinor: minor,
          minCompatibilityMajor: major,
          minCompatibilityMinor: String(Number(minor) - 1),
          gitVersion: KUBERNETES_VERSION,
          gitCommit: 'infra-twin',
          gitTreeState: 'clean',
          buildDate: '2025-08-27T00:00:00Z',
          goVersion: 'go1.24.6',
          compiler: 'gc',
          platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
        });
        return;
      }
      case '/healthz':
      case '/livez':
      case '/readyz':
        sendText(
          res,
          200,
          url.searchParams.has('verbose')
            ? `[+]ping ok\n[+]etcd ok\n${urlPath.slice(1)} check passed\n`
            : 'ok',
        );
        return;
      case '/openapi/v2':
        if (accept && !/application\/json|\*\/\*/.test(accept))
          throw new StatusError(
            406,
            'NotAcceptable',
            'only the following media types are accepted: application/json',
            {},
          );
        sendJson(res, 200, this.openapiV2());
        return;
      case '/openapi/v3':
        sendJson(
          res,
          200,
          openApiV3Index(resources, (gv) => this.openapiV3(gv)?.hash ?? ''),
        );
        return;
    }
    if (urlPath.startsWith('/openapi/v3/')) {
      const doc = this.openapiV3(urlPath.slice('/openapi/v3/'.length));
      if (!doc) throw pathNotFound();
      sendJson(res, 200, doc.text, { ETag: `"${doc.hash}"`, 'Cache-Control': 'public, immutable' });
      return;
    }
    if (/^\/(healthz|livez|readyz)\/[\w-]+$/.test(urlPath)) {
      sendText(res, 200, 'ok');
      return;
    }
    const gv = /^\/(?:api\/(v\d+)|apis\/([^/]+)(?:\/([^/]+))?)$/.exec(urlPath);
    const doc = !gv
      ? undefined
      : gv[1]
        ? apiResourceList(resources, '', gv[1])
        : gv[3]
          ? apiResourceList(resources, gv[2]!, gv[3])
          : apiGroup(resources, gv[2]!);
    if (doc) {
      sendJson(res, 200, doc);
      return;
    }
    throw pathNotFound();
  }

  private openapiV3(gv: string): { text: string; hash: string } | undefined {
    this.freshOpenapi();
    const cached = this.openapiCache.docs.get(gv);
    if (cached) return cached;
    const m = /^(?:api\/(v\d+)|apis\/([^/]+)\/([^/]+))$/.exec(gv);
    if (!m) return undefined;
    const doc = m[1]
      ? openApiV3GroupVersion(this.served.all(), '', m[1])
      : openApiV3GroupVersion(this.served.all(), m[2]!, m[3]!);
    if (!doc) return undefined;
    const text = JSON.stringify(doc);
    const entry = { text, hash: hashDocument(text) };
    this.openapiCache.docs.set(gv, entry);
    return entry;
  }

  private openapiV2(): string {
    this.freshOpenapi();
    this.openapiCache.v2 ??= JSON.stringify(openApiV2(this.served.all()));
    return this.openapiCache.v2;
  }

  private freshOpenapi(): void {
    if (this.openapiCache.generation !== this.served.generation)
      this.openapiCache = { generation: this.served.generation, docs: new Map() };
  }

  private async resource(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    info: RequestInfo,
    user: UserInfo,
  ): Promise<void> {
    const r = this.served.lookup(info.group, info.version, info.resource);
    if (!r) throw pathNotFound();
    const q = url.searchParams;
    if (!r.namespaced && info.namespace && r.name !== 'namespaces') throw pathNotFound();
    const t: RequestTarget = {
      resource: r,
      namespace: r.namespaced ? info.namespace : '',
      name: info.name,
      subresource: info.subresource,
      verb: info.verb,
    };
    if (
      r.verbs.length === 1 &&
      r.verbs[0] === 'create' &&
      (r.group === 'authorization.k8s.io' || r.group === 'authentication.k8s.io')
    ) {
      if (info.verb !== 'create') throw methodNotSupported();
      const body = parseBody(await readBody(req), mediaType(req));
      const answer = answerReview(
        this.options.store,
        this.authenticator,
        user,
        r.group,
        r.name,
        t.namespace,
        body,
      );
      if (!answer) throw pathNotFound();
      sendJson(res, 201, { ...answer, apiVersion: apiVersionOf(r), kind: r.kind });
      return;
    }
    if (t.subresource) {
      await this.subresource(req, res, t, q);
      return;
    }
    const verb = info.verb;
    if (!r.verbs.includes(verb === 'watch' ? 'watch' : verb)) throw methodNotSupported();
    switch (verb) {
      case 'get':
        return this.handler.get(req, res, t);
      case 'list':
        return this.handler.list(req, res, t, q);
      case 'watch':
        return this.handler.watch(req, res, t, q);
      case 'create':
        if (t.name) throw methodNotSupported();
        return this.handler.create(req, res, t, q);
      case 'update':
        return this.handler.update(req, res, t, q);
      case 'patch':
        return this.handler.patch(req, res, t, q);
      case 'delete':
        return this.handler.delete(req, res, t, q);
      case 'deletecollection':
        return this.handler.deleteCollection(req, res, t, q);
      default:
        throw methodNotSupported();
    }
  }

  private async subresource(
    req: IncomingMessage,
    res: ServerResponse,
    t: RequestTarget,
    q: URLSearchParams,
  ): Promise<void> {
    const r = t.resource;
    const sub = r.subresources.find((s) => s.name === t.subresource);
    if (!sub || !t.name) throw pathNotFound();
    const verb = t.verb === 'update' ? 'update' : t.verb;
    const { store } = this.options;
    const ref = this.handler.ref(r, t.namespace, t.name);
    switch (t.subresource) {
      case 'status':
        if (verb === 'get') return this.handler.get(req, res, t);
        if (verb === 'update') return this.handler.update(req, res, t, q);
        if (verb === 'patch') return this.handler.patch(req, res, t, q);
        throw methodNotSupported();
      case 'scale':
        return this.scale(req, res, t, q);
      case 'log': {
        if (verb !== 'get') throw methodNotSupported();
        const pod = store.peek(ref);
        if (!pod) throw notFound(this.handler.gr(r), t.name);
        const container = containerOf(pod, q.get('container'));
        const num = (k: string) => (q.get(k) === null ? undefined : Number(q.get(k)));
        const sinceSeconds = num('sinceSeconds');
        const sinceTime = q.get('sinceTime');
        const since =
          sinceSeconds !== undefined
            ? this.options.clock.now() - sinceSeconds * 1000
            : sinceTime
              ? Date.parse(sinceTime)
              : undefined;
        const tailLines = num('tailLines');
        const limitBytes = num('limitBytes');
        await writePodLog(
          res,
          pod,
          this.options.logs?.containerLog(t.namespace, t.name, container),
          {
            container,
            follow: q.get('follow') === 'true',
            previous: q.get('previous') === 'true',
            timestamps: q.get('timestamps') === 'true',
            ...(tailLines !== undefined ? { tailLines } : {}),
            ...(limitBytes !== undefined ? { limitBytes } : {}),
            ...(since !== undefined ? { since } : {}),
          },
          () => store.peek(ref)?.metadata.uid !== pod.metadata.uid,
        );
        return;
      }
      case 'eviction': {
        if (verb !== 'create') throw methodNotSupported();
        const body = parseBody(await readBody(req), mediaType(req));
        if (body?.metadata?.name && body.metadata.name !== t.name)
          throw badRequest(`name in URL does not match name in Eviction object`);
        if (!this.options.evict) throw methodNotSupported();
        if (isDryRun(q)) {
          if (!store.peek(ref)) throw notFound(this.handler.gr(r), t.name);
          sendJson(res, 201, {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            code: 201,
          });
          return;
        }
        const answer = this.options.evict({
          apiVersion: 'v1',
          kind: 'Pod',
          namespace: t.namespace,
          name: t.name,
        });
        if (answer.code === 200) {
          sendJson(res, 201, {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            code: 201,
          });
          return;
        }
        if (answer.code === 404) throw notFound(this.handler.gr(r), t.name);
        if (answer.code === 429) {
          const cause = answer.message.replace(
            /^Cannot evict pod as it would violate the pod's disruption budget\.\s*/,
            '',
          );
          throw new StatusError(
            429,
            'TooManyRequests',
            "Cannot evict pod as it would violate the pod's disruption budget.",
            {
              causes: [{ reason: 'DisruptionBudget', message: cause }],
            },
          );
        }
        throw new StatusError(500, 'InternalError', answer.message, {});
      }
      case 'binding': {
        if (verb !== 'create') throw methodNotSupported();
        const body = parseBody(await readBody(req), mediaType(req));
        const pod = store.peek(ref);
        if (!pod) throw notFound(this.handler.gr(r), t.name);
        if (pod.spec?.nodeName)
          throw conflict(
            this.handler.gr(r),
            t.name,
            `pod ${t.name} is already assigned to node "${pod.spec.nodeName}"`,
          );
        const node = body?.target?.name;
        if (!node) throw badRequest('Binding.target.name: Required value');
        store.patch(ref, (p) => {
          p.spec.nodeName = node;
        });
        sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
        return;
      }
      case 'token': {
        if (verb !== 'create') throw methodNotSupported();
        const body = parseBody(await readBody(req), mediaType(req));
        const sa = store.peek(ref);
        if (!sa) throw notFound(this.handler.gr(r), t.name);
        const spec = body?.spec ?? {};
        const expirationSeconds = Number(spec.expirationSeconds ?? 3600);
        if (expirationSeconds < 600)
          throw badRequest(
            'spec.expirationSeconds: Invalid value: may not specify a duration less than 10 minutes',
          );
        let pod: { name: string; uid: string } | undefined;
        const bound = spec.boundObjectRef;
        if (bound?.kind === 'Pod') {
          const p = store.peek({ apiVersion: 'v1', kind: 'Pod', namespace: t.namespace, name: bound.name });
          if (!p || (bound.uid && bound.uid !== p.metadata.uid))
            throw notFound({ group: '', resource: 'pods' }, bound.name);
          pod = { name: p.metadata.name, uid: p.metadata.uid! };
        }
        const { token, claims } = this.tokens.issue({
          namespace: t.namespace,
          serviceAccount: { name: sa.metadata.name, uid: sa.metadata.uid! },
          ...(pod ? { pod } : {}),
          audiences: spec.audiences,
          expirationSeconds,
        });
        sendJson(res, 201, {
          kind: 'TokenRequest',
          apiVersion: 'authentication.k8s.io/v1',
          metadata: { name: t.name, namespace: t.namespace, creationTimestamp: null },
          spec: { audiences: claims.aud, expirationSeconds, boundObjectRef: bound ?? null },
          status: {
            token,
            expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
          },
        });
        return;
      }
      case 'finalize': {
        if (verb !== 'update') throw methodNotSupported();
        const body = this.handler.decode(await readBody(req), mediaType(req), r);
        const current = store.peek(ref) as KubeObject | undefined;
        if (!current) throw notFound(this.handler.gr(r), t.name);
        const next = structuredClone(current);
        next.spec = { ...(next.spec ?? {}), finalizers: body.spec?.finalizers ?? [] };
        const stored = this.handler.storeCall(r, t.name, () =>
          store.update(next, undefined, { withStatus: true }),
        );
        sendJson(res, 200, stored);
        return;
      }
      default:
        throw new StatusError(
          405,
          'MethodNotAllowed',
          `the twin's API server does not serve ${r.name}/${t.subresource} (exec, attach, port-forward and proxy need a container runtime)`,
          {},
        );
    }
  }

  /** `<resource>/scale`: the autoscaling/v1 Scale view; an update or patch writes spec.replicas of the object. */
  private async scale(
    req: IncomingMessage,
    res: ServerResponse,
    t: RequestTarget,
    q: URLSearchParams,
  ): Promise<void> {
    const r: ServedResource = t.resource;
    const { store } = this.options;
    const current = store.peek(this.handler.ref(r, t.namespace, t.name)) as KubeObject | undefined;
    if (!current) throw notFound(this.handler.gr(r), t.name);
    const scale = scaleOf(r, current);
    if (!scale) throw pathNotFound();
    if (t.verb === 'get') {
      sendJson(res, 200, scale);
      return;
    }
    let next: any;
    const body = parseBody(await readBody(req), mediaType(req));
    if (t.verb === 'update') next = body;
    else if (t.verb === 'patch') {
      const type = mediaType(req);
      if (type === 'application/json-patch+json') next = jsonPatch(scale, body);
      else if (type === 'application/merge-patch+json') next = jsonMergePatch(scale, body);
      else if (type === 'application/strategic-merge-patch+json')
        next = strategicMergePatch(scale, body, builtinSchema('V1Scale')!);
      else if (type === 'application/apply-patch+yaml') next = jsonMergePatch(scale, body);
      else throw badRequest(`unsupported patch type ${type}`);
    } else throw methodNotSupported();
    const rv = next?.metadata?.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion)
      throw conflict(this.handler.gr(r), t.name, OBJECT_MODIFIED);
    const replicas = next?.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new StatusError(
        422,
        'Invalid',
        `Scale.autoscaling "${t.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        {
          name: t.name,
          group: 'autoscaling',
          kind: 'Scale',
          causes: [
            {
              reason: 'FieldValueInvalid',
              message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
              field: 'spec.replicas',
            },
          ],
        },
      );
    const updated = withReplicas(r, current, replicas);
    const result = this.handler.write(req, q, r, { ...t, subresource: '' }, current, updated);
    sendJson(res, 200, scaleOf(r, result.object));
  }
}
