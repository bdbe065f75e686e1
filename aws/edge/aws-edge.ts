import { rm } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { decodeAwsChunked, isAwsChunked } from './aws-chunked.ts';
import { type AwsErrorResponse, type AwsProtocol, awsError } from './aws-errors.ts';
import { type Emulator, startDynalite, startKinesalite, startS3rver } from './emulators.ts';
import { accessKeyOf, EDGE_SERVICES, header, serviceOf } from './request-routing.ts';
import { bucketSetting, S3BucketSettings } from './s3-bucket-settings.ts';
import { stsResponse } from './sts.ts';
import { amendJsonAnswer, DynamoDbSettings, type JsonAnswer, kinesisGap } from './unconfigured.ts';

export interface AwsEdgeOptions {
  /** Loopback address to listen on (127.0.0.1). */
  host?: string;
  /** 4566 when free and no port is given, else any free port; an explicit port is used as is. */
  port?: number;
  /** The edge's state (S3 objects); removed on stop. */
  dataDir: string;
  log?: (message: string) => void;
}

/** What a client needs, configured exactly as for LocalStack. */
export interface EdgeClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'te',
]);
const MAX_JSON_BODY = 16 * 2 ** 20;

/**
 * A LocalStack-compatible AWS edge on one loopback port: S3 (s3rver), DynamoDB (dynalite) and
 * Kinesis (kinesalite) each listen on an internal port, and the edge routes every request to the
 * right one as LocalStack's edge does (JSON target, SigV4 credential scope, else S3). It speaks
 * HTTP/1.1 and cleartext HTTP/2 (the SDK's Kinesis client uses HTTP/2), answers STS
 * GetCallerIdentity and `/_localstack/health`, fills the operations the emulators lack that
 * Terraform reads on every resource, and turns every failure into the protocol's error shape.
 */
export class AwsEdge implements AsyncDisposable {
  static readonly DEFAULT_PORT = 4566;
  readonly host: string;
  port = 0;
  private readonly log: (m: string) => void;
  private readonly front = net.createServer((socket) => this.accept(socket));
  private readonly h1 = http.createServer(
    { keepAliveTimeout: 60_000 },
    (req, res) => void this.handle(req, res),
  );
  private readonly h2 = http2.createServer({}, (req, res) => void this.handle(req, res));
  private readonly sockets = new Set<net.Socket>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  private readonly dynamoDbSettings = new DynamoDbSettings();
  private readonly s3Settings = new S3BucketSettings();
  private emulators: Emulator[] = [];
  private s3?: Awaited<ReturnType<typeof startS3rver>>;
  private dynamodb?: Emulator;
  private kinesis?: Emulator;
  private stopped = false;

  private constructor(private readonly options: AwsEdgeOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.log = options.log ?? (() => {});
  }

  static async start(options: AwsEdgeOptions): Promise<AwsEdge> {
    const edge = new AwsEdge(options);
    try {
      await edge.startEmulators();
      await edge.listen();
    } catch (err) {
      await edge.stop();
      throw err;
    }
    return edge;
  }

  get endpoint(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** Client settings as for LocalStack: test/test, any region. */
  clientConfig(region = 'us-east-1'): EdgeClientConfig {
    return { endpoint: this.endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  }

  /** The emulator packages behind the edge, by service. */
  get backends(): Record<string, string> {
    return Object.fromEntries(this.emulators.map((e) => [e.service, e.package]));
  }

  private async startEmulators(): Promise<void> {
    this.s3 = await startS3rver(path.join(this.options.dataDir, 's3'));
    this.emulators.push(this.s3);
    this.dynamodb = await startDynalite();
    this.emulators.push(this.dynamodb);
    this.kinesis = await startKinesalite();
    this.emulators.push(this.kinesis);
  }

  private async listen(): Promise<void> {
    const tryPort = (port: number) =>
      new Promise<number>((resolve, reject) => {
        this.front.once('error', reject);
        this.front.listen({ host: this.host, port, exclusive: true }, () => {
          this.front.off('error', reject);
          resolve((this.front.address() as net.AddressInfo).port);
        });
      });
    if (this.options.port !== undefined) {
      this.port = await tryPort(this.options.port);
      return;
    }
    try {
      this.port = await tryPort(AwsEdge.DEFAULT_PORT);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      this.port = await tryPort(0);
      this.log(`aws edge: ${this.host}:${AwsEdge.DEFAULT_PORT} is taken; listening on port ${this.port}`);
    }
  }

  /** Cleartext HTTP/2 starts with its connection preface (prior knowledge); anything else is HTTP/1.x. */
  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      if (chunk.subarray(0, 4).toString('latin1') !== 'PRI ') {
        socket.unshift(chunk);
        this.h1.emit('connection', socket);
        socket.resume();
        return;
      }
      // The HTTP/2 session reads the socket's native handle, which bypasses unshift: it gets a JS
      // stream that replays the bytes already read and then the rest of the socket.
      const readable = new PassThrough();
      readable.write(chunk);
      socket.pipe(readable);
      const duplex = Duplex.from({ readable, writable: socket });
      duplex.on('error', () => socket.destroy());
      socket.on('close', () => duplex.destroy());
      this.h2.emit('connection', duplex);
    });
  }

  private async handle(req: AnyRequest, res: AnyResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://edge.invalid');
    let service = 's3';
    try {
      if (url.pathname === '/_localstack/health' || url.pathname === '/health') return this.health(req, res);
      service = serviceOf(req.headers, url);
      switch (service) {
        case 's3':
          return await this.forwardS3(req, res, url);
        case 'dynamodb':
          return await this.forwardJson(req, res, this.dynamodb!, 'json1.0');
        case 'kinesis':
          return await this.forwardJson(req, res, this.kinesis!, 'json1.1');
        case 'sts':
          return send(res, stsResponse((await readBody(req, MAX_JSON_BODY)).toString('utf8')));
        default:
          return send(
            res,
            awsError(
              isQueryProtocol(req.headers) ? 'query' : 'json1.1',
              501,
              'InternalFailure',
              `Service '${service}' is not served by the infra-twin AWS edge (it serves ${EDGE_SERVICES.join(', ')})`,
            ),
          );
      }
    } catch (err) {
      this.log(`aws edge: ${req.method} ${url.pathname} (${service}): ${(err as Error).message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const protocol: AwsProtocol =
        service === 'dynamodb' ? 'json1.0' : service === 'kinesis' ? 'json1.1' : 'rest-xml';
      const tooLarge = err instanceof BodyTooLarge;
      send(
        res,
        awsError(
          protocol,
          tooLarge ? 413 : 500,
          tooLarge ? 'RequestEntityTooLarge' : 'InternalError',
          tooLarge ? err.message : `the edge could not serve the request: ${(err as Error).message}`,
        ),
      );
    }
  }

  private health(req: AnyRequest, res: AnyResponse): void {
    const running = !this.stopped;
    const services = Object.fromEntries(EDGE_SERVICES.map((s) => [s, running ? 'running' : 'stopped']));
    const body = JSON.stringify({
      services,
      edition: 'community',
      version: 'infra-twin-edge',
      backends: this.backends,
    });
    (res as ServerResponse).writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    if (req.method === 'HEAD') res.end();
    else res.end(body);
  }

  private async forwardS3(req: AnyRequest, res: AnyResponse, url: URL): Promise<void> {
    const s3 = this.s3!;
    const key = accessKeyOf(req.headers, url);
    if (key) s3.allowAccessKey(key);
    const setting = bucketSetting(url);
    if (setting) {
      const body = await readBody(req, MAX_JSON_BODY);
      if (!(await this.bucketExists(setting.bucket)))
        return send(res, awsError('rest-xml', 404, 'NoSuchBucket', 'The specified bucket does not exist'));
      return send(
        res,
        this.s3Settings.handle(req.method ?? 'GET', setting.bucket, setting.setting, body, req.headers),
      );
    }
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'DELETE' && parts.length === 1 && url.search === '') {
      res.once('finish', () => {
        if (res.statusCode === 204) this.s3Settings.forget(decodeURIComponent(parts[0]!));
      });
    }
    const headers = forwardHeaders(req.headers);
    if (isAwsChunked(req.headers)) {
      // s3rver stores the body as sent; streaming SigV4 uploads (the SDK's default for stream bodies,
      // with checksum trailers) are decoded here, as S3 does, into the payload they frame.
      const decoded = decodeAwsChunked(await readBody(req, 5 * 2 ** 30));
      if ('error' in decoded) return send(res, awsError('rest-xml', 400, 'IncompleteBody', decoded.error));
      const encodings = String(headers['content-encoding'] ?? '')
        .split(',')
        .map((e) => e.trim())
        .filter((e) => e !== '' && e !== 'aws-chunked');
      if (encodings.length > 0) headers['content-encoding'] = encodings.join(',');
      else delete headers['content-encoding'];
      delete headers['x-amz-decoded-content-length'];
      delete headers['x-amz-trailer'];
      headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      Object.assign(headers, decoded.trailers);
      headers['content-length'] = String(decoded.payload.length);
      return this.proxy(req, res, s3.port, headers, decoded.payload, 'rest-xml');
    }
    return this.proxy(req, res, s3.port, headers, req, 'rest-xml');
  }

  private bucketExists(bucket: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const r = http.request(
        {
          host: '127.0.0.1',
          port: this.s3!.port,
          method: 'HEAD',
          path: `/${encodeURIComponent(bucket)}`,
          agent: this.agent,
        },
        (up) => {
          up.resume();
          resolve(up.statusCode === 200);
        },
      );
      r.on('error', reject);
      r.end();
    });
  }

  private async forwardJson(
    req: AnyRequest,
    res: AnyResponse,
    emulator: Emulator,
    protocol: 'json1.0' | 'json1.1',
  ): Promise<void> {
    const body = await readBody(req, MAX_JSON_BODY);
    const operation = (header(req.headers, 'x-amz-target') ?? '').split('.')[1] ?? '';
    let input: unknown;
    try {
      input = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
    } catch {
      input = undefined; // the emulator answers SerializationException as AWS does
    }
    if (input !== undefined) {
      const call = (target: string, payload: unknown) =>
        this.callJson(emulator.port, target, payload, protocol);
      const answer: JsonAnswer | undefined =
        emulator.service === 'dynamodb'
          ? await this.dynamoDbSettings.answer(operation, input, call)
          : await kinesisGap(operation, input, call);
      if (answer) {
        const text = JSON.stringify(answer.body);
        return send(res, {
          status: answer.status,
          headers: { 'content-type': `application/x-amz-json-${protocol === 'json1.0' ? '1.0' : '1.1'}` },
          body: text,
        });
      }
    }
    const headers = forwardHeaders(req.headers);
    headers['content-length'] = String(body.length);
    const answer = await this.exchange(emulator.port, req.method ?? 'POST', req.url ?? '/', headers, body);
    let amended: unknown;
    if (input !== undefined && answer.status === 200) {
      let parsed: unknown;
      try {
        parsed = answer.body.length === 0 ? {} : JSON.parse(answer.body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      const call = (target: string, payload: unknown) =>
        this.callJson(emulator.port, target, payload, protocol);
      if (parsed !== undefined)
        amended = await amendJsonAnswer(operation, input, { status: answer.status, body: parsed }, call);
    }
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(answer.headers))
      if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
    let payload = answer.body;
    if (amended !== undefined) {
      payload = Buffer.from(JSON.stringify(amended));
      delete out['x-amz-crc32']; // the checksum was of the emulator's body
    }
    out['content-length'] = String(payload.length);
    (res as ServerResponse).writeHead(answer.status, out);
    res.end(payload);
  }

  /** One buffered request to an emulator. */
  private exchange(
    port: number,
    method: string,
    pathAndQuery: string,
    headers: Record<string, string | string[]>,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const r = http.request(
        { host: '127.0.0.1', port, method, path: pathAndQuery, headers, agent: this.agent },
        (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('end', () =>
            resolve({ status: up.statusCode ?? 502, headers: up.headers, body: Buffer.concat(chunks) }),
          );
          up.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(body);
    });
  }

  /** A JSON-protocol call of the edge's own to an emulator (existence checks). */
  private async callJson(
    port: number,
    target: string,
    input: unknown,
    protocol: 'json1.0' | 'json1.1',
  ): Promise<{ status: number; body: any }> {
    const payload = Buffer.from(JSON.stringify(input));
    const service = target.startsWith('DynamoDB') ? 'dynamodb' : 'kinesis';
    const up = await this.exchange(
      port,
      'POST',
      '/',
      {
        'content-type': `application/x-amz-json-${protocol === 'json1.0' ? '1.0' : '1.1'}`,
        'content-length': String(payload.length),
        'x-amz-target': target,
        'x-amz-date': '20200101T000000Z',
        authorization: `AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
      },
      payload,
    );
    const text = up.body.toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { __type: 'InternalFailure', message: text };
    }
    return { status: up.status, body };
  }

  private proxy(
    req: AnyRequest,
    res: AnyResponse,
    port: number,
    headers: Record<string, string | string[]>,
    body: Buffer | AnyRequest,
    protocol: AwsProtocol,
  ): Promise<void> {
    return new Promise((resolve) => {
      const upstream = http.request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers, agent: this.agent },
        (up) => {
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(up.headers))
            if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
          (res as ServerResponse).writeHead(up.statusCode ?? 502, out);
          up.pipe(res as NodeJS.WritableStream);
          up.on('end', () => resolve());
          up.on('error', () => {
            res.destroy();
            resolve();
          });
        },
      );
      upstream.on('error', (err) => {
        this.log(`aws edge: upstream on port ${port}: ${err.message}`);
        if (!res.headersSent)
          send(res, awsError(protocol, 503, 'ServiceUnavailable', `emulator unavailable: ${err.message}`));
        else res.destroy();
        resolve();
      });
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      if (Buffer.isBuffer(body)) upstream.end(body);
      else (body as NodeJS.ReadableStream).pipe(upstream);
    });
  }

  /** Stops the edge and its emulators and removes its state. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await new Promise<void>((resolve) => {
      if (!this.front.listening) return resolve();
      this.front.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    this.h1.closeAllConnections();
    this.h2.close();
    this.agent.destroy();
    for (const e of this.emulators.reverse()) await e.close().catch(() => {});
    await rm(this.options.dataDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

class BodyTooLarge extends Error {}

function readBody(req: AnyRequest, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BodyTooLarge(`request body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Request headers for an HTTP/1.1 upstream: no hop-by-hop or HTTP/2 pseudo-headers; `host` from `:authority`. */
function forwardHeaders(
  headers: IncomingHttpHeaders | NodeJS.Dict<string | string[]>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k)) continue;
    if (k.startsWith(':')) {
      if (k === ':authority') out['host'] = String(v);
      continue;
    }
    out[k] = v;
  }
  return out;
}

function send(res: AnyResponse, r: AwsErrorResponse): void {
  const body = Buffer.from(r.body);
  (res as ServerResponse).writeHead(r.status, { ...r.headers, 'content-length': String(body.length) });
  res.end(body);
}

function isQueryProtocol(headers: IncomingHttpHeaders | NodeJS.Dict<string | string[]>): boolean {
  return String(headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}
