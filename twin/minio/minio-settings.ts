/**
 * The settings the bitnami/minio image takes from its environment (MINIO_ROOT_USER, MINIO_ROOT_PASSWORD,
 * MINIO_DEFAULT_BUCKETS, MINIO_API_PORT_NUMBER, MINIO_DATA_DIR, MINIO_DISTRIBUTED_MODE_ENABLED).
 */
export interface MinioSettings {
  rootUser: string;
  rootPassword: string;
  buckets: string[];
  port: number;
  dataDir: string;
}

/** The settings the image derives from its environment; throws with the variable named when one is wrong. */
export function minioSettings(env: NodeJS.ProcessEnv): MinioSettings {
  if (/^(yes|true)$/i.test(env['MINIO_DISTRIBUTED_MODE_ENABLED'] ?? ''))
    throw new Error(
      "MINIO_DISTRIBUTED_MODE_ENABLED=yes: the twin's MinIO binding runs one node only; leave distributed mode off",
    );
  const rootUser = env['MINIO_ROOT_USER'] || 'minio';
  const rootPassword = env['MINIO_ROOT_PASSWORD'] || 'miniosecret';
  // MinIO refuses a root password shorter than 8 characters and a user shorter than 3.
  if (rootUser.length < 3) throw new Error('MINIO_ROOT_USER: must be at least 3 characters long');
  if (rootPassword.length < 8) throw new Error('MINIO_ROOT_PASSWORD: must be at least 8 characters long');
  const port = Number(env['MINIO_API_PORT_NUMBER'] || '9000');
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`MINIO_API_PORT_NUMBER: "${env['MINIO_API_PORT_NUMBER']}" is not a port number`);
  const buckets = (env['MINIO_DEFAULT_BUCKETS'] ?? '')
    .split(/[,;\s]+/)
    .filter((b) => b !== '')
    .map((b) => b.split(':')[0]!);
  for (const b of buckets)
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b))
      throw new Error(`MINIO_DEFAULT_BUCKETS: "${b}" is not a valid bucket name`);
  return { rootUser, rootPassword, buckets, port, dataDir: env['MINIO_DATA_DIR'] || '/bitnami/minio/data' };
}
