// Overview, Models, Sessions and the trace list, as a user reads them: cost per model, filters that
// change the numbers and land in the URL, sortable tables, paging both ways.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelMetricsResponse } from '../../collector/src/api/contract.ts';
import { agentRun, screenshot, startHarness, type Harness } from './support.ts';

let h: Harness;
let page: Page;

// Published prices per million tokens: gpt-4o-mini $0.15 in / $0.60 out; gpt-4o $2.50 in / $10 out.
const miniCost = (2 * (120 + 180) * 0.15 + 2 * (18 + 24) * 0.6) / 1e6;
const bigCost = (1000 * 2.5 + 200 * 10) / 1e6;

beforeAll(async () => {
  h = await startHarness('overview-app');
  await agentRun(h, { userId: 'alice', sessionId: 's-alice', tags: ['beta'] });
  await agentRun(h, { userId: 'alice', sessionId: 's-alice', tags: ['beta'], city: 'Oslo' });
  h.openaiServer.enqueue({ text: 'A long essay.', usage: { input_tokens: 1000, output_tokens: 200 } });
  await h.openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Write an essay.' }] });
  await h.flush();
  page = await h.newPage();
});

afterAll(async () => {
  await h?.close();
});

const modelRow = (model: string) => page.locator(`[data-testid="model-row"][data-model="${model}"]`);
const numberIn = async (selector: string) => Number(await page.locator(selector).first().getAttribute('data-value'));

describe('overview', () => {
  it('shows the cost of each model and the total', async () => {
    await page.goto(h.parallax.dashboardUrl);
    await modelRow('gpt-4o').waitFor();
    expect(Number(await modelRow('gpt-4o').locator('[data-testid="model-cost"]').getAttribute('data-value'))).toBeCloseTo(bigCost, 12);
    expect(Number(await modelRow('gpt-4o-mini').locator('[data-testid="model-cost"]').getAttribute('data-value'))).toBeCloseTo(miniCost, 12);
    expect(await modelRow('gpt-4o').locator('[data-testid="model-cost"]').innerText()).toBe('$0.0045');
    expect(await numberIn('[data-testid="summary-cost-value"]')).toBeCloseTo(miniCost + bigCost, 12);
    expect(await numberIn('[data-testid="summary-calls-value"]')).toBe(5);
    // The most expensive model is listed first.
    expect(await page.locator('[data-testid="model-row"]').first().getAttribute('data-model')).toBe('gpt-4o');
    await screenshot(page, 'overview-light');
  });

  it('filters by model and by user: the numbers change and the filter is in the URL', async () => {
    await page.goto(h.parallax.dashboardUrl);
    await page.locator('[data-testid="filter-model"]').selectOption('gpt-4o');
    await page.waitForURL(/[?&]model=gpt-4o(&|$)/);
    await page.locator('[data-testid="summary-calls-value"][data-value="1"]').waitFor();
    expect(await numberIn('[data-testid="summary-cost-value"]')).toBeCloseTo(bigCost, 12);
    expect(await page.locator('[data-testid="model-row"]').count()).toBe(1);

    // Shared links open filtered.
    await page.goto(`${h.parallax.dashboardUrl}/?user=alice`);
    expect(await numberIn('[data-testid="summary-calls-value"]')).toBe(4);
    expect(await numberIn('[data-testid="summary-cost-value"]')).toBeCloseTo(miniCost, 12);
    expect(await page.locator('[data-testid="filter-user"]').inputValue()).toBe('alice');

    await page.locator('[data-testid="filter-user"]').selectOption('');
    await page.waitForURL((url) => !url.searchParams.has('user'));
    await page.locator('[data-testid="summary-calls-value"][data-value="5"]').waitFor();
    await page.locator('[data-testid="filter-tag"]').selectOption('beta');
    await page.waitForURL(/[?&]tag=beta(&|$)/);
    await page.locator('[data-testid="summary-calls-value"][data-value="4"]').waitFor();
  });

  it('switches the chart between cost, errors, p95 latency and time to first token', async () => {
    await page.goto(h.parallax.dashboardUrl);
    const title = page.locator('[data-testid="chart-title"]');
    expect(await title.innerText()).toBe('Cost per model');
    await page.locator('[data-testid="chart-metric-p95"]').click();
    expect(await title.innerText()).toBe('p95 latency per model');
    await page.locator('[data-testid="chart-metric-errors"]').click();
    expect(await title.innerText()).toBe('Errors per model');
    // Nothing here streamed: the chart says so rather than drawing zero-millisecond lines.
    await page.locator('[data-testid="chart-metric-ttft"]').click();
    expect(await page.locator('[data-testid="chart-empty"]').innerText()).toMatch(/no streamed calls/i);
  });
});

describe('models page', () => {
  it('has a row per model with cost per 1k calls and averages, and sorts by a column', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/models`);
    await modelRow('gpt-4o-mini').waitFor();
    const mini = modelRow('gpt-4o-mini');
    expect(Number(await mini.locator('[data-testid="model-costPer1k"]').getAttribute('data-value'))).toBeCloseTo((miniCost / 4) * 1000, 12);
    expect(Number(await mini.locator('[data-testid="model-avgInput"]').getAttribute('data-value'))).toBe(150);
    expect(await mini.locator('[data-testid="model-errorRate"]').innerText()).toBe('0%');
    // No experiment has run in this project: the page says where quality comes from, and shows none.
    expect(await page.locator('[data-testid="quality-note"]').innerText()).toMatch(/comes from experiments/i);
    expect(await mini.locator('[data-testid="model-quality"]').innerText()).toBe('—');

    await page.locator('[data-testid="sort-calls"]').click();
    await page.waitForURL(/sort=calls/);
    expect(await page.locator('[data-testid="model-row"]').first().getAttribute('data-model')).toBe('gpt-4o-mini');
    await page.locator('[data-testid="sort-calls"]').click();
    await page.waitForURL(/dir=asc/);
    expect(await page.locator('[data-testid="model-row"]').first().getAttribute('data-model')).toBe('gpt-4o');
    await screenshot(page, 'models-light');
  });
});

describe('sessions and trace list', () => {
  it('lists the session and links to its page and to its traces in the trace list', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/sessions`);
    const row = page.locator('[data-testid="session-row"][data-session-id="s-alice"]');
    await row.waitFor();
    expect(Number(await row.locator('[data-testid="session-traces"]').getAttribute('data-value'))).toBe(2);
    expect(await row.locator('[data-testid="session-link"]').getAttribute('href')).toBe('/sessions/s-alice');
    await row.locator('[data-testid="session-traces-link"]').click();
    await page.waitForURL(/\/traces\?.*session=s-alice/);
    expect(await page.locator('[data-testid="trace-row"]').count()).toBe(2);
  });

  it('sorts traces by cost through the API and filters by a cost range', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/traces`);
    await page.locator('[data-testid="trace-sort-cost"]').click();
    await page.waitForURL(/sort=cost/);
    const costs = async () => Promise.all((await page.locator('[data-testid="trace-cost"]').all()).map(async (c) => Number(await c.getAttribute('data-value'))));
    const desc = await costs();
    expect(desc).toHaveLength(3);
    expect(desc[0]).toBeCloseTo(bigCost, 12);
    expect([...desc].sort((a, b) => b - a)).toEqual(desc);
    await page.locator('[data-testid="trace-sort-cost"]').click();
    await page.waitForURL(/order=asc/);
    const asc = await costs();
    expect(asc.at(-1)).toBeCloseTo(bigCost, 12);

    await page.goto(`${h.parallax.dashboardUrl}/traces`);
    await page.getByText('More filters').click();
    await page.locator('[data-testid="trace-min-cost"]').fill('0.001');
    await page.locator('[data-testid="trace-min-cost"]').press('Enter');
    await page.waitForURL(/minCost=0\.001/);
    await page.locator('[data-testid="trace-row"]').first().waitFor();
    expect(await page.locator('[data-testid="trace-row"]').count()).toBe(1);
    expect(Number(await page.locator('[data-testid="trace-cost"]').getAttribute('data-value'))).toBeCloseTo(bigCost, 12);
  });

  it('applies a filter menu changed before the page is interactive', async () => {
    // Hold back the app's scripts: the page is server-rendered HTML only until they are released.
    const early = await h.newPage();
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    await early.route('**/_app/immutable/**/*.js', async (route) => {
      await released;
      await route.continue();
    });
    const loading = early.goto(`${h.parallax.dashboardUrl}/traces`);
    // If a check below fails first, the pending load is abandoned with the page: not a second error.
    loading.catch(() => {});
    const model = early.locator('[data-testid="trace-filter-model"]');
    await model.waitFor();
    expect(await early.evaluate(() => document.documentElement.dataset.hydrated ?? null)).toBeNull();
    await model.selectOption('gpt-4o');
    await early.waitForURL(/\/traces\?model=gpt-4o$/);
    release();
    await loading;
    expect(await early.locator('[data-testid="trace-row"]').count()).toBe(1);
    expect(await early.locator('[data-testid="trace-models"]').innerText()).toBe('gpt-4o');
    expect(await model.inputValue()).toBe('gpt-4o');
  });

  it('pages forward and back through more traces than fit on a page', async () => {
    // 52 more one-call traces: with the 3 above, 55 traces make two pages of 50.
    for (let i = 0; i < 52; i++) h.openaiServer.enqueue({ text: `answer ${i}`, usage: { input_tokens: 5, output_tokens: 1 } });
    for (let i = 0; i < 52; i++) await h.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${i}` }] });
    await h.flush();
    const metrics = await h.parallax.api<ModelMetricsResponse>('/api/v1/metrics/models');
    expect(metrics.models.reduce((n, m) => n + m.calls, 0)).toBe(57);

    await page.goto(`${h.parallax.dashboardUrl}/traces`);
    const firstPageIds = await page.locator('[data-testid="trace-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trace-id')));
    expect(firstPageIds).toHaveLength(50);
    expect(await page.locator('[data-testid="previous-page"]').count()).toBe(0);
    await page.locator('[data-testid="next-page"]').click();
    await page.waitForURL(/cursor=/);
    await page.locator('[data-testid="trace-count"]').getByText('Page 2').waitFor();
    const secondPageIds = await page.locator('[data-testid="trace-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trace-id')));
    expect(secondPageIds).toHaveLength(5);
    expect(secondPageIds.some((id) => firstPageIds.includes(id))).toBe(false);
    expect(await page.locator('[data-testid="next-page"]').count()).toBe(0);

    await page.locator('[data-testid="previous-page"]').click();
    await page.locator('[data-testid="trace-count"]').getByText('Page 1').waitFor();
    expect(new URL(page.url()).searchParams.has('cursor')).toBe(false);
    const again = await page.locator('[data-testid="trace-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trace-id')));
    expect(again).toEqual(firstPageIds);
  });
});
