import type { MiddlewareHandler } from 'hono';
import type { KeyResolver } from '../auth/keys.ts';
import type { ApiKeyRecord, KeyScope, ProjectStore } from '../store/projects.ts';
import { apiError } from './errors.ts';

export type AuthVariables = {
  key: ApiKeyRecord;
  /** The project this request acts on: the key's own, or for admin keys the one it names. */
  projectId: string;
};

const RANK: Record<KeyScope, number> = { ingest: 0, full: 1, admin: 2 };

/** Header (or `project` query parameter) with which an admin key picks the project to act on. */
export const PROJECT_HEADER = 'x-parallax-project';

/**
 * Requires `Authorization: Bearer <project API key>` with at least `scope`. The request acts on
 * the key's project; only admin keys may name another one. Nothing else can reach another
 * project's data, because every store call takes this project id.
 */
export function requireKey(keys: KeyResolver, projects: ProjectStore, scope: KeyScope): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      return apiError(c, 401, 'unauthorized', 'missing API key: send "Authorization: Bearer <project API key>"');
    }
    const key = await keys.resolve(match[1]!);
    if (!key) return apiError(c, 401, 'unauthorized', 'unknown or revoked API key');
    if (RANK[key.scope] < RANK[scope]) {
      const need = scope === 'full' ? 'reading needs a full-access key' : 'this needs an admin key';
      return apiError(c, 403, 'forbidden', `this API key is "${key.scope}": ${key.scope === 'ingest' ? 'it may only send spans; ' : ''}${need}`);
    }
    const named = c.req.header(PROJECT_HEADER) ?? c.req.query('project');
    if (named && named !== key.projectId) {
      if (key.scope !== 'admin') {
        return apiError(c, 403, 'forbidden', `this API key belongs to project "${key.projectId}" and cannot act on "${named}"`);
      }
      if (!(await projects.getProject(named))) return apiError(c, 404, 'not_found', `no project "${named}"`);
    }
    c.set('key', key);
    c.set('projectId', named ?? key.projectId);
    await next();
  };
}
