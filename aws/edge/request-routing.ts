/** The services the edge serves, as LocalStack names them in `/_localstack/health`. */
export type EdgeService = 's3' | 'dynamodb' | 'kinesis' | 'sts';

export const EDGE_SERVICES: readonly EdgeService[] = ['s3', 'dynamodb', 'kinesis', 'sts'];

export type RequestHeaders = Record<string, string | string[] | undefined>;

/**
 * Which AWS service a request is for, the way LocalStack's edge decides it: the JSON target prefix
 * (`X-Amz-Target: DynamoDB_20120810.PutItem`), else the service in the SigV4 credential scope of the
 * Authorization header or a presigned URL, else S3 (anonymous requests are S3's). Returns the
 * signing name as sent for a service the edge does not serve (e.g. "secretsmanager").
 */
export function serviceOf(headers: RequestHeaders, url: URL): string {
  const target = header(headers, 'x-amz-target');
  if (target?.startsWith('DynamoDB_')) return 'dynamodb';
  if (target?.startsWith('Kinesis_')) return 'kinesis';
  const scope =
    credentialScope(header(headers, 'authorization')) ??
    url.searchParams.get('X-Amz-Credential') ??
    undefined;
  const service = scope?.split('/')[3];
  if (service) return service;
  return 's3';
}

/** The access key id of a SigV4 or SigV2 request, if it carries one. */
export function accessKeyOf(headers: RequestHeaders, url: URL): string | undefined {
  const auth = header(headers, 'authorization');
  const scope = credentialScope(auth) ?? url.searchParams.get('X-Amz-Credential');
  if (scope) return scope.split('/')[0] || undefined;
  const v2 = auth?.match(/^AWS ([^:]+):/);
  return v2?.[1] ?? url.searchParams.get('AWSAccessKeyId') ?? undefined;
}

/** The region of the credential scope (us-east-1 when the request names none). */
export function regionOf(headers: RequestHeaders, url: URL): string {
  const scope = credentialScope(header(headers, 'authorization')) ?? url.searchParams.get('X-Amz-Credential');
  return scope?.split('/')[2] || 'us-east-1';
}

function credentialScope(authorization: string | undefined): string | undefined {
  return authorization?.match(/Credential=([^,\s]+)/)?.[1];
}

export function header(headers: RequestHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
