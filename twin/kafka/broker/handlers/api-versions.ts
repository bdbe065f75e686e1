/** ApiVersions: the versions of every API this broker serves. */
import { APIS } from '../../protocol/api-table.ts';
import type { Handler } from '../broker-context.ts';

export function apiKeys() {
  return [...APIS.values()]
    .sort((a, b) => a.key - b.key)
    .map((a) => ({
      apiKey: a.key,
      minVersion: a.request.validVersions[0],
      maxVersion: a.request.validVersions[1],
    }));
}

export const apiVersions: Handler = async () => ({ errorCode: 0, apiKeys: apiKeys(), throttleTimeMs: 0 });
