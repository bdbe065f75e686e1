import { describe, expect, it } from 'vitest';
import { minioSettings } from '../../../twin/minio/minio-settings.ts';

describe("bitnami/minio's environment", () => {
  it('reads the root credentials, the port and the default buckets as the image does', () => {
    const s = minioSettings({
      MINIO_ROOT_USER: 'imageflow',
      MINIO_ROOT_PASSWORD: 'imageflow-secret-key',
      MINIO_DEFAULT_BUCKETS: 'raw-images:rw\nprocessed-images:rw\nsystem-logs:r\n',
    });
    expect(s).toEqual({
      rootUser: 'imageflow',
      rootPassword: 'imageflow-secret-key',
      buckets: ['raw-images', 'processed-images', 'system-logs'],
      port: 9000,
      dataDir: '/bitnami/minio/data',
    });
    expect(minioSettings({ MINIO_DEFAULT_BUCKETS: 'a1b,c2d;e3f' }).buckets).toEqual(['a1b', 'c2d', 'e3f']);
  });

  it('refuses what the image refuses or the twin does not run', () => {
    expect(() => minioSettings({ MINIO_ROOT_PASSWORD: 'short' })).toThrow(
      /MINIO_ROOT_PASSWORD: must be at least 8/,
    );
    expect(() => minioSettings({ MINIO_DEFAULT_BUCKETS: 'Bad_Bucket' })).toThrow(
      /"Bad_Bucket" is not a valid bucket/,
    );
    expect(() => minioSettings({ MINIO_DISTRIBUTED_MODE_ENABLED: 'yes' })).toThrow(/one node only/);
    expect(() => minioSettings({ MINIO_API_PORT_NUMBER: 'x' })).toThrow(/MINIO_API_PORT_NUMBER/);
  });
});
