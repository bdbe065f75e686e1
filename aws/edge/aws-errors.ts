import { randomUUID } from 'node:crypto';

/** An error response as the service's protocol shapes it, so that SDKs and Terraform parse the code. */
export interface AwsErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type AwsProtocol = 'json1.0' | 'json1.1' | 'rest-xml' | 'query';

export function awsError(
  protocol: AwsProtocol,
  status: number,
  code: string,
  message: string,
): AwsErrorResponse {
  const requestId = randomUUID();
  if (protocol === 'json1.0' || protocol === 'json1.1') {
    return {
      status,
      headers: {
        'content-type': `application/x-amz-json-${protocol === 'json1.0' ? '1.0' : '1.1'}`,
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': code,
      },
      body: JSON.stringify({ __type: code, message }),
    };
  }
  if (protocol === 'query') {
    return {
      status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body:
        `<ErrorResponse><Error><Type>${status < 500 ? 'Sender' : 'Receiver'}</Type><Code>${xml(code)}</Code>` +
        `<Message>${xml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${xml(code)}</Code><Message>${xml(message)}</Message><RequestId>${requestId}</RequestId></Error>`,
  };
}

export function xml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}
