import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import type { ApiError, CreatedKeyResponse, CreatedProjectResponse, KeyListResponse, ProjectListResponse, TraceListResponse } from './contract.ts';

let collector: TestCollector;
beforeAll(async () => {
  collector = await startTestCollector();
});
afterAll(async () => {
  await collector.close();
});

function call(method: string, path: string, key: string, body?: unknown) {
  return fetch(`${collector.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('projects and keys', () => {
  it('an admin creates a project, gets its first key once, and that key works only for it', async () => {
    const created = await call('POST', '/api/v1/projects', collector.apiKey, { name: 'Search team', retentionDays: 30 });
    expect(created.status).toBe(201);
    const { project, key, secret } = (await created.json()) as CreatedProjectResponse;
    expect(project).toMatchObject({ name: 'Search team', retentionDays: 30 });
    expect(key).toMatchObject({ scope: 'full', revoked: false, prefix: secret.slice(0, 7) });
    expect(JSON.stringify(await (await call('GET', `/api/v1/projects/${project.id}/keys`, secret)).json())).not.toContain(secret);

    let traceId = '';
    await exportThroughOtlp(collector.url, secret, (tracer) => {
      const span = tracer.startSpan('search request');
      traceId = span.spanContext().traceId;
      span.end();
    });
    const own = (await (await call('GET', '/api/v1/traces', secret)).json()) as TraceListResponse;
    expect(own.traces.map((t) => t.traceId)).toEqual([traceId]);
    const defaults = (await (await call('GET', '/api/v1/traces', collector.apiKey)).json()) as TraceListResponse;
    expect(defaults.traces.map((t) => t.traceId)).not.toContain(traceId);

    const list = (await (await call('GET', '/api/v1/projects', collector.apiKey)).json()) as ProjectListResponse;
    expect(list.projects.map((p) => p.name)).toEqual(expect.arrayContaining(['Default project', 'Search team']));
    const ownList = (await (await call('GET', '/api/v1/projects', secret)).json()) as ProjectListResponse;
    expect(ownList.projects.map((p) => p.id)).toEqual([project.id]);
  });

  it('a full key manages its own project keys but not other projects, and cannot mint admin keys', async () => {
    const { project, secret } = (await (await call('POST', '/api/v1/projects', collector.apiKey, { name: 'Team C' })).json()) as CreatedProjectResponse;
    const ingest = await call('POST', `/api/v1/projects/${project.id}/keys`, secret, { name: 'prod ingest', scope: 'ingest' });
    expect(ingest.status).toBe(201);
    const ingestKey = (await ingest.json()) as CreatedKeyResponse;
    expect(ingestKey.key.scope).toBe('ingest');

    expect((await call('POST', `/api/v1/projects/${project.id}/keys`, secret, { name: 'x', scope: 'admin' })).status).toBe(403);
    expect((await call('GET', '/api/v1/projects/default/keys', secret)).status).toBe(403);
    expect((await call('POST', '/api/v1/projects', secret, { name: 'sneaky' })).status).toBe(403);
    expect((await call('GET', `/api/v1/projects/${project.id}/keys`, ingestKey.secret)).status).toBe(403);
  });

  it('revoking a key refuses it at once, for ingest and API alike', async () => {
    const { project, secret } = (await (await call('POST', '/api/v1/projects', collector.apiKey, { name: 'Team D' })).json()) as CreatedProjectResponse;
    const extra = (await (await call('POST', `/api/v1/projects/${project.id}/keys`, secret, { name: 'ci' })).json()) as CreatedKeyResponse;
    expect((await call('GET', '/api/v1/project', extra.secret)).status).toBe(200);
    const revoked = await call('DELETE', `/api/v1/projects/${project.id}/keys/${extra.key.id}`, secret);
    expect(revoked.status).toBe(200);
    expect((await call('GET', '/api/v1/project', extra.secret)).status).toBe(401);
    const ingest = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${extra.secret}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(ingest.status).toBe(401);
    const keys = (await (await call('GET', `/api/v1/projects/${project.id}/keys`, secret)).json()) as KeyListResponse;
    expect(keys.keys.find((k) => k.id === extra.key.id)?.revoked).toBe(true);
  });

  it('validates bodies and names what is wrong', async () => {
    const noName = await call('POST', '/api/v1/projects', collector.apiKey, { retentionDays: 5 });
    expect(noName.status).toBe(400);
    expect(((await noName.json()) as ApiError).error.message).toContain('"name"');
    const badScope = await call('POST', '/api/v1/projects/default/keys', collector.apiKey, { name: 'k', scope: 'root' });
    expect(badScope.status).toBe(400);
    expect(((await badScope.json()) as ApiError).error.message).toContain('"scope"');
    expect((await call('PATCH', '/api/v1/projects/default', collector.apiKey, { retentionDays: -1 })).status).toBe(400);
    const renamed = await call('PATCH', '/api/v1/projects/default', collector.apiKey, { name: 'Production' });
    expect(((await renamed.json()) as { project: { name: string } }).project.name).toBe('Production');
  });
});
