import { describe, expect, it } from 'vitest';
import { placeholderReason } from '../../../system/check/index.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('the placeholder rule of twin check (docs/twin-check.md)', () => {
  it.each([
    ['DB_PASSWORD', 'change-me-placeholder', 'a placeholder'],
    ['DB_PASSWORD', 'ChangeMe', 'a placeholder'],
    ['token', 'change_me', 'a placeholder'],
    ['token', 'REPLACE_ME', 'a placeholder'],
    ['token', 'replace me', 'a placeholder'],
    ['key', 'your-api-key-here', 'a placeholder'],
    ['key', 'your_secret', 'a placeholder'],
    ['key', 'insert token here', 'a placeholder'],
    ['API_TOKEN', 'xxxx', 'a placeholder'],
    ['API_TOKEN', 'XXX', 'a placeholder'],
    ['API_TOKEN', '********', 'a placeholder'],
    ['SIGNING_KEY', '<signing-key>', 'an unfilled template'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell-style placeholder is the value under test
    ['DB_PASSWORD', '${DB_PASSWORD}', 'an unfilled template'],
    ['DB_PASSWORD', '{{ .Values.password }}', 'an unfilled template'],
    ['note', 'TODO', 'a placeholder'],
    ['DB_PASSWORD', 'password', 'a well-known default credential'],
    ['admin-password', 'admin', 'a well-known default credential'],
    ['DB_PASSWORD', b64('changeme'), 'a placeholder in base64 ("changeme")'],
    ['DB_PASSWORD', b64('xxxx'), 'a placeholder in base64 ("xxxx")'],
  ])('%s: %j is %s', (key, value, reason) => {
    expect(placeholderReason(key, value)).toBe(reason);
  });

  it.each([
    ['DB_PASSWORD', 'local-dwh-7b41e0'],
    ['admin-user', 'admin'], // a user name, not a credential
    ['DB_HOST', 'db.example.internal'],
    ['DB_PASSWORD', 'Tr0ub4dor&3xx'],
    ['DB_PASSWORD', b64('s3cr3t-Value!')],
    ['DB_PASSWORD', 'xx'],
  ])('%s: %j is a value', (key, value) => {
    expect(placeholderReason(key, value)).toBeUndefined();
  });
});
