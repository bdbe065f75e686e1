/**
 * AWS client settings from the standard variables: AWS_REGION, and AWS_ENDPOINT_URL when a
 * LocalStack-compatible endpoint stands in for AWS (then S3 is addressed path-style, as LocalStack
 * needs). Credentials come from the SDK's default chain (AWS_ACCESS_KEY_ID…, IRSA in production).
 */
export function awsClientConfig(env: NodeJS.ProcessEnv): {
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
} {
  const region = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'ap-northeast-1';
  const endpoint = env['AWS_ENDPOINT_URL'];
  return endpoint ? { region, endpoint, forcePathStyle: true } : { region };
}
