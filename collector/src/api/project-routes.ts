import { Hono } from 'hono';
import type { KeyResolver } from '../auth/keys.ts';
import type { Storage } from '../store/clickhouse.ts';
import { generateKey, type ApiKeyRecord, type Project, type ProjectStore } from '../store/projects.ts';
import { select } from '../store/queries.ts';
import type { AuthVariables } from './auth.ts';
import type { ApiKeySummary, CreatedKeyResponse, CreatedProjectResponse, KeyListResponse, ProjectInfo, ProjectListResponse, ProjectSummary } from './contract.ts';
import { apiError } from './errors.ts';
import { describeIssue, keyBody, projectBody, projectPatch } from './params.ts';

export interface ProjectRouteDeps {
  storage: Storage;
  projects: ProjectStore;
  keys: KeyResolver;
  publicUrl: string;
}

/**
 * The request's own project (`/project`), and project and key management (`/projects…`).
 * Listing and creating projects needs an admin key; a project's keys are managed by admin keys
 * or by full-access keys of that same project.
 */
export function projectRoutes(deps: ProjectRouteDeps) {
  const api = new Hono<{ Variables: AuthVariables }>();

  api.get('/project', async (c) => {
    const project = await deps.projects.getProject(c.get('projectId'));
    if (!project) return apiError(c, 404, 'not_found', `project ${c.get('projectId')} no longer exists`);
    const any = await select<{ n: number }>(
      deps.storage,
      'SELECT count() AS n FROM (SELECT 1 FROM {db}.spans WHERE project_id = {project:String} LIMIT 1)',
      { project: project.id },
    );
    const body: ProjectInfo = {
      project: { id: project.id, name: project.name },
      ingestEndpoint: `${deps.publicUrl}/v1/traces`,
      empty: (any[0]?.n ?? 0) === 0,
    };
    return c.json(body);
  });

  api.get('/projects', async (c) => {
    const key = c.get('key');
    const all = await deps.projects.listProjects();
    const visible = key.scope === 'admin' ? all : all.filter((p) => p.id === key.projectId);
    const body: ProjectListResponse = { projects: visible.map(projectSummary) };
    return c.json(body);
  });

  api.post('/projects', async (c) => {
    if (c.get('key').scope !== 'admin') return apiError(c, 403, 'forbidden', 'creating projects needs an admin key');
    const parsed = projectBody.safeParse(await jsonBody(c.req.raw));
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    const project = await deps.projects.createProject(parsed.data.name);
    const withRetention = parsed.data.retentionDays
      ? ((await deps.projects.updateProject(project.id, { retentionDays: parsed.data.retentionDays })) ?? project)
      : project;
    const secret = generateKey();
    const key = await deps.projects.addKey(project.id, secret, { name: 'first key', scope: 'full' });
    const body: CreatedProjectResponse = { project: projectSummary(withRetention), key: keySummary(key), secret };
    return c.json(body, 201);
  });

  api.patch('/projects/:id', async (c) => {
    const id = c.req.param('id');
    const denied = mayManage(c.get('key'), id);
    if (denied) return apiError(c, 403, 'forbidden', denied);
    const parsed = projectPatch.safeParse(await jsonBody(c.req.raw));
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    const project = await deps.projects.updateProject(id, parsed.data);
    if (!project) return apiError(c, 404, 'not_found', `no project "${id}"`);
    return c.json({ project: projectSummary(project) });
  });

  api.get('/projects/:id/keys', async (c) => {
    const id = c.req.param('id');
    const denied = mayManage(c.get('key'), id);
    if (denied) return apiError(c, 403, 'forbidden', denied);
    const body: KeyListResponse = { keys: (await deps.projects.listKeys(id)).map(keySummary) };
    return c.json(body);
  });

  api.post('/projects/:id/keys', async (c) => {
    const id = c.req.param('id');
    const key = c.get('key');
    const denied = mayManage(key, id);
    if (denied) return apiError(c, 403, 'forbidden', denied);
    const parsed = keyBody.safeParse(await jsonBody(c.req.raw));
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    if (parsed.data.scope === 'admin' && key.scope !== 'admin') {
      return apiError(c, 403, 'forbidden', 'only an admin key can create admin keys');
    }
    if (!(await deps.projects.getProject(id))) return apiError(c, 404, 'not_found', `no project "${id}"`);
    const secret = generateKey();
    const record = await deps.projects.addKey(id, secret, parsed.data);
    const body: CreatedKeyResponse = { key: keySummary(record), secret };
    return c.json(body, 201);
  });

  api.delete('/projects/:id/keys/:keyId', async (c) => {
    const id = c.req.param('id');
    const denied = mayManage(c.get('key'), id);
    if (denied) return apiError(c, 403, 'forbidden', denied);
    const revoked = await deps.projects.revokeKey(id, c.req.param('keyId'));
    if (!revoked) return apiError(c, 404, 'not_found', `no key "${c.req.param('keyId')}" in project "${id}"`);
    deps.keys.forgetAll();
    return c.json({ key: keySummary(revoked) });
  });

  return api;
}

function mayManage(key: ApiKeyRecord, projectId: string): string | null {
  if (key.scope === 'admin' || key.projectId === projectId) return null;
  return `this API key belongs to project "${key.projectId}" and cannot manage "${projectId}"`;
}

async function jsonBody(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    return undefined;
  }
}

function projectSummary(project: Project): ProjectSummary {
  return { id: project.id, name: project.name, retentionDays: project.retentionDays, createdAt: project.createdAt };
}

function keySummary(key: ApiKeyRecord): ApiKeySummary {
  return { id: key.id, name: key.name, scope: key.scope, prefix: key.prefix, createdAt: key.createdAt, revoked: key.revoked };
}
