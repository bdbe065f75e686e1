import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { decodeProtobuf, PROTOBUF } from './protobuf.ts';
import { badRequest, requestTooLarge, StatusError, unsupportedMediaType } from './status-error.ts';

/** kube-apiserver's limit on a request body (MaxRequestBodyBytes): 3 MiB. */
export const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

/** Reads a request body, refusing more than MAX_REQUEST_BYTES (413) as kube-apiserver does. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_REQUEST_BYTES) {
      req.resume();
      reject(requestTooLarge(`Request entity too large: limit is ${MAX_REQUEST_BYTES}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        failed = true;
        reject(requestTooLarge(`Request entity too large: limit is ${MAX_REQUEST_BYTES}`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** The media type of a request, without parameters ("application/json"). */
export function mediaType(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? 'application/json')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

/** A JSON, YAML (or, for the kinds kubectl sends so, protobuf) request body as an object. */
export function parseBody(body: Buffer, type: string): any {
  if (type === PROTOBUF) return decodeProtobuf(body);
  if (type.includes('protobuf') || type.includes('cbor'))
    throw unsupportedMediaType(type, ['application/json', 'application/yaml']);
  const text = body.toString('utf8');
  if (type.includes('yaml')) {
    try {
      return parseYaml(text);
    } catch (err) {
      throw badRequest(`error converting YAML to JSON: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`the object provided is unrecognized (must be of type JSON): ${(err as Error).message}`);
  }
}

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  code: number,
  text: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(code, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const status =
    err instanceof StatusError
      ? err
      : new StatusError(
          500,
          'InternalError',
          `Internal error occurred: ${(err as Error)?.message ?? String(err)}`,
        );
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status.code, status.toStatus());
}

/** `Warning: 299 - "…"` headers, as the API server returns warnings (kubectl prints them as "Warning: …"). */
export function warningHeaders(warnings: string[]): Record<string, string | string[]> {
  if (warnings.length === 0) return {};
  return { Warning: warnings.map((w) => `299 - ${JSON.stringify(w.replace(/[\r\n]+/g, ' '))}`) };
}
