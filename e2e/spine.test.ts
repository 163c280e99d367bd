// The whole data path once, as a user meets it: the official `openai` client, wrapped by the SDK,
// calls a local server that speaks OpenAI's wire format; the spans travel through the official
// OTLP exporter to the collector process on embedded ClickHouse; the API prices them; the
// dashboard, in headless Chromium, shows the model and its cost.
import OpenAI from 'openai';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelMetricsResponse, TraceListResponse, TraceResponse } from '../collector/src/api/contract.ts';
import { flush, init, shutdown, wrap } from '@parallax/sdk';
import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import { launchChromium } from './support/browser.ts';
import { startParallax, type Parallax } from './support/processes.ts';

let parallax: Parallax;
let openaiServer: OpenAIServer;
let browser: Browser;

beforeAll(async () => {
  [parallax, openaiServer, browser] = await Promise.all([startParallax(), startOpenAIServer(), launchChromium()]);
  init({ endpoint: `${parallax.collectorUrl}/v1/traces`, apiKey: parallax.apiKey, serviceName: 'checkout-assistant' });
});

afterAll(async () => {
  await shutdown();
  await Promise.all([browser?.close(), openaiServer?.close(), parallax?.stop()]);
});

describe('one OpenAI call, wrapped, stored, priced and shown', () => {
  const model = 'gpt-4o-mini';
  // gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens.
  const expectedCost = (1200 * 0.15 + 300 * 0.6) / 1e6 + (800 * 0.15 + 50 * 0.6) / 1e6;

  it('traces a plain and a streaming chat completion and the API returns model, tokens and cost', async () => {
    const openai = wrap(new OpenAI({ baseURL: openaiServer.url, apiKey: 'sk-test' }));
    openaiServer.enqueue(
      { text: 'Your order ships tomorrow.', usage: { input_tokens: 1200, output_tokens: 300 } },
      { text: 'Anything else?', usage: { input_tokens: 800, output_tokens: 50 } },
    );
    const plain = await openai.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'You are a support agent.' },
        { role: 'user', content: 'When does my order ship?' },
      ],
    });
    expect(plain.choices[0]!.message.content).toBe('Your order ships tomorrow.');

    const stream = await openai.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: 'user', content: 'Thanks!' }],
    });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe('Anything else?');
    await flush();

    const metrics = await parallax.api<ModelMetricsResponse>('/api/v1/metrics/models');
    expect(metrics.models).toHaveLength(1);
    const row = metrics.models[0]!;
    // The SDK names a base URL on a local address openai_compatible; such proxies are priced by model.
    expect(row).toMatchObject({ model, provider: 'openai_compatible', calls: 2, inputTokens: 2000, outputTokens: 350, errors: 0, unpricedCalls: 0 });
    expect(row.cost).toBeCloseTo(expectedCost, 12);
    expect(row.ttftP50Ms).not.toBeNull();

    const traces = await parallax.api<TraceListResponse>('/api/v1/traces');
    expect(traces.traces).toHaveLength(2);
    const { trace } = await parallax.api<TraceResponse>(`/api/v1/traces/${traces.traces[1]!.traceId}`);
    const llm = trace.spans[0]!.llm!;
    expect(trace.spans[0]!.serviceName).toBe('checkout-assistant');
    expect(llm.systemInstructions).toEqual([{ type: 'text', content: 'You are a support agent.' }]);
    expect(llm.inputMessages).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'When does my order ship?' }] }]);
    expect(llm.outputMessages?.[0]?.parts).toEqual([{ type: 'text', content: 'Your order ships tomorrow.' }]);
  });

  it('shows the model and its cost on the dashboard overview', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(parallax.dashboardUrl);
      const row = page.locator(`[data-testid="model-row"][data-model="${model}"]`);
      await row.waitFor();
      expect(Number(await row.locator('[data-testid="model-calls"]').getAttribute('data-value'))).toBe(2);
      const cost = row.locator('[data-testid="model-cost"]');
      expect(Number(await cost.getAttribute('data-value'))).toBeCloseTo(expectedCost, 12);
      expect(await cost.innerText()).toMatch(/\$0\.000\d+/);
    } finally {
      await page.close();
    }
  });

  it('shows the conversation of a trace as text', async () => {
    const traces = await parallax.api<TraceListResponse>('/api/v1/traces');
    const { trace } = await parallax.api<TraceResponse>(`/api/v1/traces/${traces.traces[1]!.traceId}`);
    const page = await browser.newPage();
    try {
      await page.goto(`${parallax.dashboardUrl}/traces/${trace.traceId}?span=${trace.spans[0]!.spanId}`);
      await page.getByText('When does my order ship?').first().waitFor();
      await expect(page.getByText('Your order ships tomorrow.').first().isVisible()).resolves.toBe(true);
      await expect(page.getByText('You are a support agent.').first().isVisible()).resolves.toBe(true);
    } finally {
      await page.close();
    }
  });
});
