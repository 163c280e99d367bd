// Issue 6 as a user meets it: from a dataset, run two models side by side in the browser, watch the run,
// read what passed and what it cost; then ask what production's traffic would have cost on the other model,
// next to what each model reached on the experiments.
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flush, init, shutdown, wrap } from '@parallax/sdk';
import { startAnthropicServer, startOpenAIServer, type AnthropicServer, type OpenAIRecordedRequest, type OpenAIServer } from '@parallax/testing';
import type { ExperimentListResponse, ExperimentSummary } from '../../collector/src/api/contract.ts';
import { launchChromium } from '../support/browser.ts';
import { startParallax, type Parallax } from '../support/processes.ts';

const CAPITALS: Record<string, string> = { France: 'Paris', Germany: 'Berlin', Italy: 'Rome', Spain: 'Madrid' };
const COUNTRIES = Object.keys(CAPITALS);

// Per-million prices from @pydantic/genai-prices: gpt-4o-mini $0.15 in / $0.60 out, claude-haiku-4-5 $1 / $5.
const GPT = { input: 0.15e-6, output: 0.6e-6 };
const HAIKU = { input: 1e-6, output: 5e-6 };
const EXPERIMENT_USAGE = { input: 20, output: 10 };

let parallax: Parallax;
let openai: OpenAIServer;
let anthropic: AnthropicServer;
/** Production traffic goes to its own stand-in, so its scripted usage never mixes with the experiment's replies. */
let production: OpenAIServer;
let browser: Browser;
let datasetId: string;
const contexts: BrowserContext[] = [];

async function newPage(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1440, height: 900 } });
  contexts.push(context);
  context.setDefaultTimeout(8_000);
  return context.newPage();
}

/** For a person to look at (never committed): EXPERIMENT_SCREENSHOTS=/tmp/dir. */
async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.EXPERIMENT_SCREENSHOTS;
  if (!dir) return;
  // From the top: a page scrolled by a focused field would put the sticky header over the middle of the shot.
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${parallax.collectorUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${parallax.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const countryOf = (request: OpenAIRecordedRequest) => {
  const text = JSON.stringify(request.body.messages);
  return COUNTRIES.find((c) => text.includes(c)) ?? 'nowhere';
};

/** One OpenAI reply per item, answered from the question itself; `wrong` countries get an answer without "capital". */
function scriptOpenAI(delays: number[], wrong: string[] = []) {
  openai.enqueue(
    ...delays.map((delayMs) => (request: OpenAIRecordedRequest) => {
      const country = countryOf(request);
      const text = wrong.includes(country) ? 'I would rather not say.' : `The capital of ${country} is ${CAPITALS[country]}.`;
      return { text, delayMs, usage: { input_tokens: EXPERIMENT_USAGE.input, output_tokens: EXPERIMENT_USAGE.output } };
    }),
  );
}

/** Anthropic replies in arrival order: `good` of them name a capital, the rest do not. */
function scriptAnthropic(delays: number[], good: number) {
  anthropic.enqueue(
    ...delays.map((delayMs, i) => ({
      text: i < good ? 'That capital is well known.' : 'I am not sure.',
      delayMs,
      usage: { input_tokens: EXPERIMENT_USAGE.input, output_tokens: EXPERIMENT_USAGE.output },
    })),
  );
}

beforeAll(async () => {
  [openai, anthropic, production, browser] = await Promise.all([startOpenAIServer(), startAnthropicServer(), startOpenAIServer(), launchChromium()]);
  // The collector holds the provider keys; Gemini is left unconfigured on purpose.
  parallax = await startParallax({
    env: {
      OPENAI_API_KEY: 'sk-test-openai',
      OPENAI_BASE_URL: openai.url,
      ANTHROPIC_API_KEY: 'sk-test-anthropic',
      ANTHROPIC_BASE_URL: anthropic.url,
      GEMINI_API_KEY: '',
      GOOGLE_API_KEY: '',
    },
  });
  const { dataset } = await api<{ dataset: { id: string } }>('POST', '/api/v1/datasets', { name: 'capital questions' });
  datasetId = dataset.id;
  await api('POST', `/api/v1/datasets/${datasetId}/items`, {
    items: COUNTRIES.map((country) => ({
      input: { messages: [{ role: 'user', parts: [{ type: 'text', content: `What is the capital of ${country}?` }] }] },
      expectedOutput: CAPITALS[country],
      assertions: [],
    })),
  });
});

afterAll(async () => {
  await shutdown();
  await Promise.all(contexts.map((c) => c.close().catch(() => {})));
  await Promise.all([browser?.close(), openai?.close(), anthropic?.close(), production?.close(), parallax?.stop()]);
});

/** The form's rows live in the page's script: typing before it has started would be reset by it. */
async function formReady(page: Page) {
  await page.locator('[data-testid="experiment-form"][data-ready="true"]').waitFor();
}

async function fillConfig(page: Page, index: number, provider: string, model: string) {
  const row = page.locator('[data-testid="config-row"]').nth(index);
  await row.locator('[data-testid="config-provider"]').selectOption(provider);
  await row.locator('[data-testid="config-model"]').fill(model);
}

describe('an experiment from the dataset page', () => {
  let experimentId: string;
  let page: Page;

  it('opens the form from the dataset with the dataset chosen, estimates the cost, and refuses to start before that', async () => {
    page = await newPage();
    await page.goto(`${parallax.dashboardUrl}/datasets/${datasetId}`);
    await screenshot(page, 'dataset-light');
    await page.locator('[data-testid="run-experiment"]').click();
    await page.waitForURL(new RegExp(`/experiments/new\\?dataset=${datasetId}`));
    await formReady(page);
    expect(await page.locator('[data-testid="experiment-dataset"]').inputValue()).toBe(datasetId);

    await fillConfig(page, 0, 'openai', 'gpt-4o-mini');
    await page.locator('[data-testid="config-add"]').click();
    await fillConfig(page, 1, 'anthropic', 'claude-haiku-4-5');
    const scorer = page.locator('[data-testid="scorer-row"]').first();
    await scorer.locator('[data-testid="scorer-type"]').selectOption('contains');
    await scorer.locator('[data-testid="scorer-value"]').fill('capital');
    await page.locator('[data-testid="experiment-name"]').fill('capitals: gpt vs haiku');

    const start = page.locator('[data-testid="experiment-start"]');
    expect(await start.isDisabled()).toBe(true);
    await page.locator('[data-testid="experiment-estimate"]').click();
    await page.locator('[data-testid="estimate-result"][data-fresh="true"]').waitFor();
    const rows = page.locator('[data-testid="estimate-row"]');
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-config-id')))).toEqual(['gpt-4o-mini', 'claude-haiku-4-5']);
    expect(await rows.first().innerText()).toMatch(/\b4\b/);
    const costs = (await page.locator('[data-testid="estimate-cost"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value')))));
    const total = Number(await page.locator('[data-testid="estimate-total"]').getAttribute('data-value'));
    // Same tokens on both: the haiku column costs more per token, and the total is the sum of the rows.
    expect(costs[1]!).toBeGreaterThan(costs[0]!);
    expect(total).toBeCloseTo(costs[0]! + costs[1]!, 12);
    expect(await start.isEnabled()).toBe(true);

    // Changing the run makes the estimate stale: start waits for a new one.
    await page.locator('[data-testid="experiment-repetitions"]').fill('2');
    await page.locator('[data-testid="estimate-stale"]').waitFor();
    expect(await start.isDisabled()).toBe(true);
    await page.locator('[data-testid="experiment-repetitions"]').fill('1');
    await page.locator('[data-testid="estimate-result"][data-fresh="true"]').waitFor();
    await screenshot(page, 'experiment-new-light');
  });

  it('starts, follows the run as it goes (below 100% first), and finishes by itself', async () => {
    // Replies spread over ~3 s, so the bar has steps to show.
    scriptOpenAI([300, 1000, 1700, 2400]);
    scriptAnthropic([650, 1350, 2050, 2750], 2);
    // Progress comes over the event stream, not by reloading the page's data (that is only the fallback).
    const reloads: string[] = [];
    const countReload = (request: { url(): string }) => {
      if (request.url().includes('__data.json')) reloads.push(request.url());
    };
    page.on('request', countReload);
    const stream = page.waitForResponse((r) => /^\/experiments\/[^/]+\/events$/.test(new URL(r.url()).pathname));
    await page.locator('[data-testid="experiment-start"]').click();
    await page.waitForURL(/\/experiments\/(?!new)[^/?]+$/);
    experimentId = new URL(page.url()).pathname.split('/').pop()!;
    expect((await stream).headers()['content-type']).toContain('text/event-stream');

    const seen: number[] = [];
    const progress = page.locator('[data-testid="experiment-progress"]');
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [done, total, status] = await progress.evaluate((el) => [Number(el.getAttribute('data-done')), Number(el.getAttribute('data-total')), el.getAttribute('data-status')] as const);
      expect(total).toBe(8);
      seen.push(done);
      if (done > 0 && done < total && seen.filter((d) => d > 0 && d < total).length === 1) await screenshot(page, 'experiment-running-light');
      if (status === 'completed') break;
      if (Date.now() > deadline) throw new Error(`still ${status} after 20 s, seen ${seen.join(',')}`);
      await page.waitForTimeout(60);
    }
    expect(seen.some((done) => done > 0 && done < 8)).toBe(true);
    // At most the load after the redirect and the one when the stream ended; polling would reload every second.
    await page.locator('[data-testid="summary-row"]').first().waitFor();
    page.off('request', countReload);
    expect(reloads.length).toBeLessThanOrEqual(2);
    expect(seen.at(-1)).toBe(8);
    // The bar never went backwards.
    expect(seen).toEqual(seen.toSorted((a, b) => a - b));
    expect(await page.locator('[data-testid="progress-percent"]').innerText()).toBe('100%');
    expect(await page.locator('[data-testid="progress-bar"]').getAttribute('aria-valuenow')).toBe('100');
    expect(await page.locator('[data-testid="experiment-status"]').innerText()).toBe('Completed');
    expect(await page.locator('[data-testid="progress-errors"]').getAttribute('data-value')).toBe('0');
  });

  it('summarises each configuration: pass rate from the scripted answers, cost per item from the prices', async () => {
    const row = (id: string) => page.locator(`[data-testid="summary-row"][data-config-id="${id}"]`);
    await row('gpt-4o-mini').waitFor();
    // Every OpenAI answer names the capital; two of the four Anthropic answers do.
    expect(await row('gpt-4o-mini').locator('[data-testid="summary-pass-rate"]').innerText()).toBe('100%');
    expect(await row('claude-haiku-4-5').locator('[data-testid="summary-pass-rate"]').innerText()).toBe('50%');
    const costPerItem = async (id: string) => Number(await row(id).locator('[data-testid="summary-cost-per-item"]').getAttribute('data-value'));
    expect(await costPerItem('gpt-4o-mini')).toBeCloseTo(EXPERIMENT_USAGE.input * GPT.input + EXPERIMENT_USAGE.output * GPT.output, 12);
    expect(await costPerItem('claude-haiku-4-5')).toBeCloseTo(EXPERIMENT_USAGE.input * HAIKU.input + EXPERIMENT_USAGE.output * HAIKU.output, 12);
    // The chart's points, as its text alternative lists them.
    const chart = await page.locator('[data-testid="cost-quality-chart"] ul').innerText();
    expect(chart).toContain('gpt-4o-mini: $0.0000090 per item, pass rate 100%');
    expect(chart).toContain('claude-haiku-4-5: $0.000070 per item, pass rate 50%');
  });

  it('shows the answers side by side as text, and filters to the items the models disagree on', async () => {
    const rows = page.locator('[data-testid="matrix-row"]');
    expect(await rows.count()).toBe(4);
    const france = rows.filter({ has: page.locator('[data-testid="matrix-input"]', { hasText: 'France' }) });
    const cell = (id: string) => france.locator(`[data-testid="matrix-cell"][data-config-id="${id}"]`);
    expect(await cell('gpt-4o-mini').locator('[data-testid="matrix-output"]').innerText()).toBe('The capital of France is Paris.');
    expect(await cell('claude-haiku-4-5').locator('[data-testid="matrix-output"]').innerText()).toMatch(/^(That capital is well known\.|I am not sure\.)$/);
    expect(await france.locator('[data-testid="matrix-expected"]').innerText()).toBe('Paris');
    const passes = (id: string) => page.locator(`[data-testid="matrix-cell"][data-config-id="${id}"] [data-testid="matrix-answer"][data-pass="true"]`).count();
    expect(await passes('gpt-4o-mini')).toBe(4);
    expect(await passes('claude-haiku-4-5')).toBe(2);
    await screenshot(page, 'experiment-light');

    await page.locator('[data-testid="matrix-filter-disagreements"]').click();
    await page.waitForURL(/disagreements=1/);
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-disagreement')))).toEqual(['true', 'true']);
    expect(await page.locator('[data-testid="matrix-cell"][data-config-id="claude-haiku-4-5"] [data-testid="matrix-output"]').allInnerTexts()).toEqual([
      'I am not sure.',
      'I am not sure.',
    ]);
    await page.locator('[data-testid="matrix-filter-all"]').click();
    await expect.poll(() => rows.count()).toBe(4);
  });

  it('links each answer to the trace of its call', async () => {
    const link = page.locator('[data-testid="matrix-cell"][data-config-id="claude-haiku-4-5"] [data-testid="matrix-trace"]').first();
    const href = await link.getAttribute('href');
    expect(href).toMatch(/^\/traces\/[0-9a-f]{32}$/);
    await link.click();
    await page.waitForURL(new RegExp(`${href}`));
    expect(await page.locator('[data-testid="span-detail"] [data-testid="output-message"]').innerText()).toMatch(/That capital is well known\.|I am not sure\./);
  });

  it('lists the experiment with its pass rates', async () => {
    await page.goto(`${parallax.dashboardUrl}/experiments`);
    const row = page.locator(`[data-testid="experiment-row"][data-experiment-id="${experimentId}"]`);
    expect(await row.locator('[data-testid="experiment-row-status"]').innerText()).toBe('Completed');
    expect(await row.locator('[data-testid="experiment-row-pass-rate"]').allInnerTexts()).toEqual(['100%', '50%']);
    await screenshot(page, 'experiments-light');
  });

  it("shows each model's quality from the experiment on the Models page, next to its cost", async () => {
    await page.goto(`${parallax.dashboardUrl}/models`);
    const quality = (model: string) => page.locator(`[data-testid="model-row"][data-model="${model}"] [data-testid="model-quality"]`);
    expect(await quality('gpt-4o-mini').getAttribute('data-value')).toBe('1');
    expect(await quality('gpt-4o-mini').innerText()).toMatch(/^100% \(/);
    expect(await quality('claude-haiku-4-5').getAttribute('data-value')).toBe('0.5');
  });

  it('compares a second run with the first as baseline: regressions first, in words with the p-value', async () => {
    // The second run: OpenAI now fails France and Germany; every Anthropic answer names a capital.
    scriptOpenAI([0, 0, 0, 0], ['France', 'Germany']);
    scriptAnthropic([0, 0, 0, 0], 4);
    const { experiment } = await api<{ experiment: ExperimentSummary }>('POST', '/api/v1/experiments', {
      name: 'capitals again',
      datasetId,
      configs: [
        { id: 'gpt-4o-mini', provider: 'openai', model: 'gpt-4o-mini' },
        { id: 'claude-haiku-4-5', provider: 'anthropic', model: 'claude-haiku-4-5' },
      ],
      scorers: [{ type: 'contains', value: 'capital' }],
      baselineExperimentId: experimentId,
    });
    const dark = await newPage('dark');
    await dark.goto(`${parallax.dashboardUrl}/experiments/${experiment.id}`);
    await dark.locator('[data-testid="experiment-status"][data-value="completed"]').waitFor({ timeout: 15_000 });
    // The configuration that broke something is listed first.
    expect(await dark.locator('[data-testid="comparison-row"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-config-id')))).toEqual([
      'gpt-4o-mini',
      'claude-haiku-4-5',
    ]);
    const gpt = dark.locator('[data-testid="comparison-row"][data-config-id="gpt-4o-mini"]');
    expect(await gpt.locator('[data-testid="comparison-regressions"] li').allInnerTexts()).toEqual(['What is the capital of France?', 'What is the capital of Germany?']);
    expect(await gpt.locator('[data-testid="comparison-delta"]').innerText()).toBe('-0.50');
    // Two items of four changed: too few to call it a difference.
    expect(await gpt.locator('[data-testid="comparison-sentence"]').innerText()).toMatch(
      /^No clear difference between gpt-4o-mini \(this run\) and gpt-4o-mini in “capitals: gpt vs haiku” \(p = [\d.]+, .+\)/,
    );
    const haiku = dark.locator('[data-testid="comparison-row"][data-config-id="claude-haiku-4-5"]');
    expect(await haiku.locator('[data-testid="comparison-improvements"] li').count()).toBe(2);
    expect(await haiku.locator('[data-testid="comparison-regressions"]').count()).toBe(0);
    await screenshot(dark, 'experiment-baseline-dark');
  });

  it('says clearly when the collector has no key for a provider, and keeps the form and its estimate', async () => {
    const dark = await newPage('dark');
    await dark.goto(`${parallax.dashboardUrl}/experiments/new?dataset=${datasetId}`);
    await formReady(dark);
    await fillConfig(dark, 0, 'gemini', 'gemini-2.5-flash');
    await dark.locator('[data-testid="experiment-estimate"]').click();
    await dark.locator('[data-testid="estimate-result"][data-fresh="true"]').waitFor();
    await dark.locator('[data-testid="experiment-start"]').click();
    const error = dark.locator('[data-testid="experiment-error"]');
    await error.waitFor();
    expect(await error.innerText()).toMatch(/A provider is not configured on the collector\.[\s\S]*GEMINI_API_KEY/);
    expect(new URL(dark.url()).pathname).toBe('/experiments/new');
    expect(await dark.locator('[data-testid="config-model"]').inputValue()).toBe('gemini-2.5-flash');
    expect(await dark.locator('[data-testid="estimate-result"][data-fresh="true"]').count()).toBe(1);
    expect(await dark.locator('[data-testid="experiment-start"]').isEnabled()).toBe(true);
    const { experiments } = await api<ExperimentListResponse>('GET', '/api/v1/experiments');
    expect(experiments.some((e) => e.configs.some((c) => c.provider === 'gemini'))).toBe(false);
    await screenshot(dark, 'experiment-new-error-dark');
  });

  it('rescores the stored answers without calling a model again', async () => {
    const calls = openai.requests.length + anthropic.requests.length;
    await page.goto(`${parallax.dashboardUrl}/experiments/${experimentId}`);
    await page.locator('[data-testid="experiment-rescore"]').click();
    expect(await page.locator('[data-testid="rescore-done"]').innerText()).toContain('score set 2');
    expect(await page.locator('[data-testid="summary-row"] [data-testid="summary-pass-rate"]').allInnerTexts()).toEqual(['100%', '50%']);
    expect(openai.requests.length + anthropic.requests.length).toBe(calls);
  });

  it('cancels a run in progress from its page', async () => {
    scriptOpenAI([10_000, 10_000, 10_000, 10_000]);
    const { experiment } = await api<{ experiment: ExperimentSummary }>('POST', '/api/v1/experiments', {
      name: 'too slow',
      datasetId,
      configs: [{ id: 'gpt-4o-mini', provider: 'openai', model: 'gpt-4o-mini' }],
      concurrency: 1,
    });
    await page.goto(`${parallax.dashboardUrl}/experiments/${experiment.id}`);
    expect(await page.locator('[data-testid="experiment-status"]').innerText()).toMatch(/Queued|Running/);
    await page.locator('[data-testid="experiment-cancel"]').click();
    await page.locator('[data-testid="experiment-status"][data-value="cancelled"]').waitFor();
    expect(await page.locator('[data-testid="experiment-status-reason"]').innerText()).toContain('cancelled on request');
    expect(Number(await page.locator('[data-testid="experiment-progress"]').getAttribute('data-done'))).toBeLessThan(4);
    await page.locator('[data-testid="experiment-cancel"]').waitFor({ state: 'detached' });
    await page.locator('[data-testid="experiment-rescore"]').waitFor();
  });
});

describe('switch simulator', () => {
  it('projects production traffic on gpt-4o-mini onto claude-haiku-4-5 at its prices, beside the quality both reached', async () => {
    init({ endpoint: `${parallax.collectorUrl}/v1/traces`, apiKey: parallax.apiKey, serviceName: 'capitals-app' });
    const client = wrap(new OpenAI({ baseURL: production.url, apiKey: 'sk-test' }));
    for (let i = 0; i < 3; i++) {
      production.enqueue({ text: 'Paris.', usage: { input_tokens: 1000, output_tokens: 500 } });
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Capital of France?' }] });
    }
    await flush();

    const page = await newPage();
    await page.goto(`${parallax.dashboardUrl}/switch?range=1h`);
    // gpt-4o-mini costs the most in the range, so it is the model offered first.
    expect(await page.locator('[data-testid="switch-from"]').inputValue()).toBe('gpt-4o-mini');
    await page.locator('[data-testid="switch-to"]').fill('claude-haiku-4-5');
    await page.locator('[data-testid="switch-to-provider"]').selectOption('anthropic');
    // Choosing from a menu submits the form at once (as the other pages' filters do); Simulate is for the typed model.
    await page.locator('[data-testid="switch-submit"]').click();
    await page.waitForURL(/toModel=claude-haiku-4-5&toProvider=anthropic|toProvider=anthropic.*toModel=claude-haiku-4-5/);
    await page.locator('[data-testid="switch-calls-value"]').waitFor();

    const value = async (id: string) => Number(await page.locator(`[data-testid="${id}-value"]`).getAttribute('data-value'));
    // Experiment calls are not production traffic: only the three SDK calls count.
    expect(await value('switch-calls')).toBe(3);
    const actual = 3 * (1000 * GPT.input + 500 * GPT.output);
    const projected = 3 * (1000 * HAIKU.input + 500 * HAIKU.output);
    expect(await value('switch-actual')).toBeCloseTo(actual, 12);
    expect(await value('switch-projected')).toBeCloseTo(projected, 12);
    expect(await value('switch-difference')).toBeCloseTo(projected - actual, 12);
    expect(await value('switch-unpriced')).toBe(0);
    expect(await page.locator('[data-testid="switch-projected-value"]').innerText()).toBe('$0.0105');
    // 0.00915 / 0.00135 = +678%
    expect(await page.locator('[data-testid="switch-difference"]').innerText()).toContain('+678% of the actual cost');
    expect(await page.locator('[data-testid="switch-headline"]').innerText()).toContain('would have cost $0.0105 on claude-haiku-4-5 instead of $0.0014: $0.0092 more (+678%)');

    const rates = (side: string) =>
      page.locator(`[data-testid="${side}"] [data-testid="switch-quality-pass-rate"]`).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))).sort());
    // Both experiments ran both models: gpt-4o-mini 100% then 50%, claude-haiku-4-5 50% then 100%.
    expect(await rates('switch-quality-from')).toEqual([0.5, 1]);
    expect(await rates('switch-quality-to')).toEqual([0.5, 1]);
    await screenshot(page, 'switch-light');
    const dark = await newPage('dark');
    await dark.goto(page.url());
    await dark.locator('[data-testid="switch-quality-to"]').waitFor();
    await screenshot(dark, 'switch-dark');
  });
});
