// Helpers for experiment tests: a real collector whose runner reaches the local provider stand-ins
// (their URLs given as the collector's provider settings, not through process.env), and JSON calls.
import type { CollectorConfig } from '../config.ts';
import type { CollectorStartConfig } from '../index.ts';
import { startTestCollector, type TestCollector } from '../test-support.ts';
import type { ProviderEnv } from './providers.ts';

export interface ExperimentTestCollector extends TestCollector {
  send<T = unknown>(method: 'POST' | 'PATCH' | 'DELETE' | 'GET', path: string, body?: unknown, key?: string): Promise<{ status: number; body: T }>;
}

export async function startExperimentCollector(providers: Partial<ProviderEnv> = {}): Promise<ExperimentTestCollector> {
  const none = { apiKey: undefined, baseUrl: undefined };
  const settings: Pick<CollectorStartConfig, 'providers'> = {
    providers: { openai: none, anthropic: none, gemini: none, openaiCompatibleApiKey: undefined, ...providers },
  };
  // startTestCollector passes its overrides on to startCollector, which takes the providers setting too.
  const collector = await startTestCollector(settings as Partial<CollectorConfig>);
  return {
    ...collector,
    async send<T>(method: string, path: string, body?: unknown, key = collector.apiKey) {
      const response = await fetch(`${collector.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as T };
    },
  };
}
