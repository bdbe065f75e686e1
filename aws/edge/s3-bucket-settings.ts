import { type AwsErrorResponse, awsError } from './aws-errors.ts';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MIN_SIZE = 'x-amz-transition-default-minimum-object-size';
const XML = '<?xml version="1.0" encoding="UTF-8"?>\n';

/**
 * What GET answers for a bucket setting nobody configured, as S3 answers it: a default document or
 * the setting's "not found" error. (Default encryption is SSE-S3 on every bucket since January 2023.)
 */
const UNCONFIGURED: Record<string, { body: string } | { code: string; message: string }> = {
  versioning: { body: `<VersioningConfiguration xmlns="${NS}"/>` },
  encryption: {
    body:
      `<ServerSideEncryptionConfiguration xmlns="${NS}"><Rule><ApplyServerSideEncryptionByDefault>` +
      '<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault>' +
      '<BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>',
  },
  acl: {
    body:
      `<AccessControlPolicy xmlns="${NS}"><Owner><ID>owner</ID><DisplayName>webfile</DisplayName></Owner>` +
      '<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
      'xsi:type="CanonicalUser"><ID>owner</ID><DisplayName>webfile</DisplayName></Grantee>' +
      '<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>',
  },
  accelerate: { body: `<AccelerateConfiguration xmlns="${NS}"/>` },
  requestPayment: {
    body: `<RequestPaymentConfiguration xmlns="${NS}"><Payer>BucketOwner</Payer></RequestPaymentConfiguration>`,
  },
  logging: { body: `<BucketLoggingStatus xmlns="${NS}"/>` },
  notification: { body: `<NotificationConfiguration xmlns="${NS}"/>` },
  publicAccessBlock: {
    code: 'NoSuchPublicAccessBlockConfiguration',
    message: 'The public access block configuration was not found',
  },
  lifecycle: { code: 'NoSuchLifecycleConfiguration', message: 'The lifecycle configuration does not exist' },
  policy: { code: 'NoSuchBucketPolicy', message: 'The bucket policy does not exist' },
  policyStatus: { code: 'NoSuchBucketPolicy', message: 'The bucket policy does not exist' },
  tagging: { code: 'NoSuchTagSet', message: 'The TagSet does not exist' },
  replication: {
    code: 'ReplicationConfigurationNotFoundError',
    message: 'The replication configuration was not found',
  },
  'object-lock': {
    code: 'ObjectLockConfigurationNotFoundError',
    message: 'Object Lock configuration does not exist for this bucket',
  },
  ownershipControls: {
    code: 'OwnershipControlsNotFoundError',
    message: 'The bucket ownership controls were not found',
  },
};

/** The bucket sub-resource a request addresses (`PUT /bucket?versioning`), when the edge keeps it. */
export function bucketSetting(url: URL): { bucket: string; setting: string } | undefined {
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts.length !== 1) return undefined;
  const setting = Object.keys(UNCONFIGURED).find((s) => url.searchParams.has(s));
  return setting ? { bucket: decodeURIComponent(parts[0]!), setting } : undefined;
}

/**
 * Bucket settings s3rver does not implement (versioning, encryption, public access block, lifecycle,
 * policy, tagging, ownership controls, …), kept per bucket as the documents the client PUT, and
 * answered on GET as S3 does when unset. The caller checks that the bucket exists.
 */
export class S3BucketSettings {
  private readonly settings = new Map<
    string,
    Map<string, { body: Buffer; contentType: string; headers: Record<string, string> }>
  >();

  handle(
    method: string,
    bucket: string,
    setting: string,
    body: Buffer,
    requestHeaders: Record<string, string | string[] | undefined>,
  ): AwsErrorResponse {
    const contentType = String(requestHeaders['content-type'] ?? '');
    const stored = this.settings.get(bucket);
    switch (method) {
      case 'PUT': {
        if (body.length === 0 && setting !== 'acl')
          return awsError('rest-xml', 400, 'MalformedXML', `the ${setting} document is empty`);
        const map = stored ?? new Map();
        // Settings that travel in a header beside the document (the lifecycle's minimum transition size).
        const headers: Record<string, string> = {};
        if (setting === 'lifecycle')
          headers[MIN_SIZE] = String(requestHeaders[MIN_SIZE] ?? 'all_storage_classes_128K');
        map.set(setting, { body, contentType, headers });
        this.settings.set(bucket, map);
        return { status: 200, headers: {}, body: '' };
      }
      case 'DELETE':
        stored?.delete(setting);
        return { status: 204, headers: {}, body: '' };
      case 'GET':
      case 'HEAD': {
        const doc = stored?.get(setting);
        if (doc) {
          const text = doc.body.toString('utf8');
          return {
            status: 200,
            headers: { ...doc.headers, 'content-type': doc.contentType || 'application/xml' },
            body: text.startsWith('<?xml') || !text.startsWith('<') ? text : XML + text,
          };
        }
        const fallback = UNCONFIGURED[setting]!;
        if ('body' in fallback)
          return { status: 200, headers: { 'content-type': 'application/xml' }, body: XML + fallback.body };
        return awsError('rest-xml', 404, fallback.code, fallback.message);
      }
      default:
        return awsError(
          'rest-xml',
          405,
          'MethodNotAllowed',
          `The specified method is not allowed against this resource.`,
        );
    }
  }

  /** Forgets a deleted bucket's settings. */
  forget(bucket: string): void {
    this.settings.delete(bucket);
  }
}
