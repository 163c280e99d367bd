import type { MiddlewareHandler } from 'hono';
import type { KeyResolver } from '../auth/keys.ts';
import type { ApiKeyRecord, KeyScope } from '../store/projects.ts';
import { apiError } from './errors.ts';

export type AuthVariables = { key: ApiKeyRecord };

/**
 * Requires `Authorization: Bearer <project API key>`. Ingest-only keys may send spans but not read;
 * `scope: 'full'` routes refuse them. The key's project is the only project the request can touch.
 */
export function requireKey(keys: KeyResolver, scope: KeyScope): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      return apiError(c, 401, 'unauthorized', 'missing API key: send "Authorization: Bearer <project API key>"');
    }
    const key = await keys.resolve(match[1]!);
    if (!key) return apiError(c, 401, 'unauthorized', 'unknown or revoked API key');
    if (scope === 'full' && key.scope !== 'full') {
      return apiError(c, 403, 'forbidden', 'this API key may only send spans; reading needs a full-access key');
    }
    c.set('key', key);
    await next();
  };
}
