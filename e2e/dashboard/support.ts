// Shared set-up for the dashboard's browser tests: one collector + dashboard per test file, data sent
// through the real SDK and the real `openai` client against the local OpenAI stand-in.
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { flush, init, shutdown, traced, withContext, wrap } from '@parallax/sdk';
import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import { launchChromium } from '../support/browser.ts';
import { startParallax, type Parallax } from '../support/processes.ts';

export interface Harness {
  parallax: Parallax;
  openaiServer: OpenAIServer;
  browser: Browser;
  openai: OpenAI;
  /** A fresh browser context (own cookies) and page; closed by `close()`. */
  newPage(options?: { colorScheme?: 'light' | 'dark' }): Promise<Page>;
  /** Send what was traced so far and wait until the collector has stored it. */
  flush(): Promise<void>;
  /** Any JSON API call with the admin key (the GET helper of processes.ts only reads). */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(serviceName = 'support-bot'): Promise<Harness> {
  const [parallax, openaiServer, browser] = await Promise.all([startParallax(), startOpenAIServer(), launchChromium()]);
  init({ endpoint: `${parallax.collectorUrl}/v1/traces`, apiKey: parallax.apiKey, serviceName });
  const openai = wrap(new OpenAI({ baseURL: openaiServer.url, apiKey: 'sk-test' }));
  const contexts: BrowserContext[] = [];
  return {
    parallax,
    openaiServer,
    browser,
    openai,
    async newPage(options = {}) {
      const context = await browser.newContext({ colorScheme: options.colorScheme ?? 'light', viewport: { width: 1440, height: 900 }, acceptDownloads: true });
      contexts.push(context);
      // Well under the test timeout, so a missing element fails with its selector named.
      context.setDefaultTimeout(8_000);
      return context.newPage();
    },
    flush: () => flush(),
    request(method, path, body, headers = {}) {
      return fetch(`${parallax.collectorUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${parallax.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
    async close() {
      await shutdown();
      await Promise.all(contexts.map((c) => c.close().catch(() => {})));
      await Promise.all([browser.close(), openaiServer.close(), parallax.stop()]);
    },
  };
}

export const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/**
 * A small agent run as one trace: the model asks for a tool, the app runs it, the model answers.
 * Returns the trace id. The second LLM call carries the whole conversation.
 */
export async function agentRun(
  h: Harness,
  options: { city?: string; answer?: string; sessionId?: string; userId?: string; tags?: string[]; model?: string } = {},
): Promise<void> {
  const city = options.city ?? 'Paris';
  const answer = options.answer ?? `It is 18°C and sunny in ${city}.`;
  const model = options.model ?? 'gpt-4o-mini';
  h.openaiServer.enqueue(
    { toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: { city } }], usage: { input_tokens: 120, output_tokens: 18 } },
    { text: answer, usage: { input_tokens: 180, output_tokens: 24 } },
  );
  const run = () =>
    traced('weather-agent', async () => {
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: 'system', content: 'You are a weather assistant. Use the tool.' },
        { role: 'user', content: `What is the weather in ${city}?` },
      ];
      const first = await h.openai.chat.completions.create({ model, messages, tools: [WEATHER_TOOL] });
      const call = first.choices[0]!.message.tool_calls![0]!;
      messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ tempC: 18, sky: 'sunny' }) });
      await h.openai.chat.completions.create({ model, messages, tools: [WEATHER_TOOL] });
    });
  await withContext({ sessionId: options.sessionId, userId: options.userId, tags: options.tags }, run);
}

/** Fails the test if the page ever opens a dialog (alert/confirm/prompt), e.g. from injected script. */
export function failOnDialog(page: Page): { dialogs: string[] } {
  const seen = { dialogs: [] as string[] };
  page.on('dialog', (dialog) => {
    seen.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss().catch(() => {});
  });
  return seen;
}

/** Screenshots for a person to look at (never committed): set DASHBOARD_SCREENSHOTS=/tmp/dir. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.DASHBOARD_SCREENSHOTS;
  if (!dir) return;
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}
