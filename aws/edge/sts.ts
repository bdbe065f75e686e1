import { randomUUID } from 'node:crypto';
import { type AwsErrorResponse, awsError, xml } from './aws-errors.ts';

/** LocalStack's default account: every access key belongs to it. */
export const EDGE_ACCOUNT_ID = '000000000000';

/**
 * STS GetCallerIdentity (the call Terraform's provider and `aws sts get-caller-identity` make first),
 * answered for LocalStack's default account and root user; other STS actions are not served.
 */
export function stsResponse(body: string): AwsErrorResponse {
  const params = new URLSearchParams(body);
  const action = params.get('Action');
  if (action !== 'GetCallerIdentity') {
    return awsError(
      'query',
      400,
      action ? 'InvalidAction' : 'MissingAction',
      action
        ? `The action ${action} is not valid for this web service (the edge serves STS GetCallerIdentity only).`
        : 'Missing Action parameter.',
    );
  }
  const requestId = randomUUID();
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
      `<Arn>${xml(`arn:aws:iam::${EDGE_ACCOUNT_ID}:root`)}</Arn><UserId>${EDGE_ACCOUNT_ID}</UserId>` +
      `<Account>${EDGE_ACCOUNT_ID}</Account></GetCallerIdentityResult>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
  };
}
