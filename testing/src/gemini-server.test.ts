// The stand-in's own wire format, read with plain fetch; both Gemini SDKs against it are exercised in
// sdk/src/google-genai/*.test.ts and sdk/src/google-generative-ai/*.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGeminiServer, validateGenerateContentRequest, type GeminiServer } from './gemini-server.ts';

let server: GeminiServer;
beforeEach(async () => {
  server = await startGeminiServer();
});
afterEach(async () => {
  await server.close();
});

const request = { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] };

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('gemini stand-in', () => {
  it('answers generateContent with candidates, usage and records the route', async () => {
    server.enqueue({ text: 'Salut', functionCalls: [{ name: 'get_weather', args: { city: 'Paris' } }], usage: { promptTokenCount: 4, candidatesTokenCount: 3, thoughtsTokenCount: 2, cachedContentTokenCount: 1 } });
    const res = await post('/v1beta/models/gemini-2.5-flash:generateContent', request);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      candidates: [{ content: { role: 'model', parts: [{ text: 'Salut' }, { functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 3, thoughtsTokenCount: 2, cachedContentTokenCount: 1, totalTokenCount: 9 },
      modelVersion: 'gemini-2.5-flash',
    });
    expect(server.requests[0]).toMatchObject({ action: 'generateContent', model: 'gemini-2.5-flash', body: request });
  });

  it('streams data: chunks separated by CRLF CRLF, the last with the finish reason and usage', async () => {
    server.enqueue({ text: 'Hello world', usage: { promptTokenCount: 3, candidatesTokenCount: 2 } });
    const res = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', request);
    const raw = await res.text();
    const chunks = raw.split('\r\n\r\n').filter(Boolean).map((c) => JSON.parse(c.replace(/^data: /, '')));
    expect(chunks).toHaveLength(2);
    expect(chunks.map((c) => c.candidates[0].content.parts[0].text).join('')).toBe('Hello world');
    expect(chunks[0].candidates[0].finishReason).toBeUndefined();
    expect(chunks[1]).toMatchObject({ candidates: [{ finishReason: 'STOP' }], usageMetadata: { candidatesTokenCount: 2, totalTokenCount: 5 } });
    expect(server.requests[0]!.query).toEqual({ alt: 'sse' });
  });

  it('answers embedContent and batchEmbedContents', async () => {
    server.enqueue({ embeddings: [[0.1, 0.2]] }, { embeddings: [[1], [2]] });
    const one = await (await post('/v1beta/models/text-embedding-004:embedContent', { content: { parts: [{ text: 'a' }] } })).json();
    expect(one).toEqual({ embedding: { values: [0.1, 0.2] } });
    const batch = await (
      await post('/v1beta/models/text-embedding-004:batchEmbedContents', {
        requests: [
          { model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] } },
          { model: 'models/text-embedding-004', content: { parts: [{ text: 'b' }] } },
        ],
      })
    ).json();
    expect(batch).toEqual({ embeddings: [{ values: [1] }, { values: [2] }] });
  });

  it('answers errors with the Google error body', async () => {
    server.enqueue({ status: 429, error: { message: 'Resource has been exhausted' } });
    const res = await post('/v1beta/models/gemini-2.5-flash:generateContent', request);
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' } });
  });

  it('rejects requests the real API rejects', async () => {
    const res = await post('/v1beta/models/gemini-2.5-flash:generateContent', { contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
    const call = { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }, { functionCall: { name: 'g', args: {} } }] };
    const oneResponse = { role: 'user', parts: [{ functionResponse: { name: 'f', response: { output: 1 } } }] };
    expect(validateGenerateContentRequest({ contents: [request.contents[0], call, oneResponse] })).toMatch(/number of function response parts/);
    expect(validateGenerateContentRequest({ contents: [{ role: 'user', parts: [] }] })).toMatch(/must not be empty/);
    expect(validateGenerateContentRequest({ contents: [{ role: 'user', parts: [{ functionResponse: { name: 'f', response: 'text' } }] }] })).toMatch(/function_response/);
    expect(validateGenerateContentRequest(request)).toBeUndefined();
  });

  it('drops the connection when scripted to', async () => {
    server.enqueue({ disconnect: true });
    await expect(post('/v1beta/models/gemini-2.5-flash:generateContent', request)).rejects.toThrow();
  });
});
