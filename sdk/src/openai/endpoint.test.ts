import { describe, expect, it } from 'vitest';
import { describeEndpoint } from './endpoint.ts';

describe('describeEndpoint', () => {
  it.each([
    ['https://api.openai.com/v1', 'openai', 'api.openai.com', 443],
    ['https://myres.openai.azure.com/openai', 'azure.ai.openai', 'myres.openai.azure.com', 443],
    ['http://localhost:11434/v1', 'ollama', 'localhost', 11434],
    ['https://api.groq.com/openai/v1', 'groq', 'api.groq.com', 443],
    ['https://api.deepseek.com', 'deepseek', 'api.deepseek.com', 443],
    ['https://openrouter.ai/api/v1', 'openrouter', 'openrouter.ai', 443],
    ['http://vllm.internal:8000/v1', 'vllm', 'vllm.internal', 8000],
    ['http://10.0.0.5:8000/v1', 'openai_compatible', '10.0.0.5', 8000],
    ['https://llm.acme.io/v1', 'acme', 'llm.acme.io', 443],
  ])('%s → %s', (url, provider, address, port) => {
    expect(describeEndpoint(url, false)).toEqual({ provider, serverAddress: address, serverPort: port });
  });

  it('trusts the Azure client over the host name', () => {
    expect(describeEndpoint('https://gateway.example.com/openai', true).provider).toBe('azure.ai.openai');
  });
});
