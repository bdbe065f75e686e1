/**
 * Decodes an `aws-chunked` request body (SigV4 streaming upload, with or without trailers) into the
 * payload: `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` repeated, ended by a zero-size chunk and
 * optional trailer lines (`x-amz-checksum-crc32:…`). Returns the payload and the trailers, or an
 * error message when the framing is broken.
 */
export function decodeAwsChunked(
  body: Buffer,
): { payload: Buffer; trailers: Record<string, string> } | { error: string } {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', pos);
    if (eol < 0) return { error: `aws-chunked body: no chunk header at byte ${pos}` };
    const sizeText = body.subarray(pos, eol).toString('latin1').split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) return { error: `aws-chunked body: bad chunk size "${sizeText}"` };
    const size = Number.parseInt(sizeText, 16);
    pos = eol + 2;
    if (size === 0) break;
    if (pos + size > body.length) return { error: 'aws-chunked body: chunk longer than the body' };
    parts.push(body.subarray(pos, pos + size));
    pos += size;
    if (body.subarray(pos, pos + 2).toString('latin1') !== '\r\n')
      return { error: 'aws-chunked body: chunk not followed by CRLF' };
    pos += 2;
  }
  const trailers: Record<string, string> = {};
  for (const line of body.subarray(pos).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { payload: Buffer.concat(parts), trailers };
}

export function isAwsChunked(headers: Record<string, string | string[] | undefined>): boolean {
  const encoding = String(headers['content-encoding'] ?? '');
  const sha = String(headers['x-amz-content-sha256'] ?? '');
  return encoding.split(',').some((e) => e.trim() === 'aws-chunked') || sha.startsWith('STREAMING-');
}
