// Not a test: seeds data and saves every page in light and dark for a person to look at.
// Run from e2e/: node dashboard/screenshots.ts /tmp/parallax-shots (after building the dashboard).
import { agentRun, startHarness } from './support.ts';
import type { DatasetSummary, TraceListResponse } from '../../collector/src/api/contract.ts';
const dir = process.argv[2] ?? '/tmp/parallax-shots';
const h = await startHarness('shop-assistant');
try {
  await agentRun(h, { userId: 'alice', sessionId: 's-1', tags: ['beta'] });
  await agentRun(h, { userId: 'bob', sessionId: 's-2', city: 'Oslo' });
  h.openaiServer.enqueue({ text: 'Long essay', usage: { input_tokens: 1000, output_tokens: 200 } });
  await h.openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Write an essay.' }] });
  h.openaiServer.enqueue({ status: 429, error: { message: 'Rate limit', type: 'requests' } });
  await h.openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch(() => {});
  h.openaiServer.enqueue({ text: 'streamed reply', usage: { input_tokens: 50, output_tokens: 20 } });
  const s = await h.openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream' }] });
  for await (const _ of s) void _;
  await h.flush();
  const traces = (await h.parallax.api<TraceListResponse>('/api/v1/traces')).traces;
  const agent = traces.find((t) => t.name === 'weather-agent')!;
  const ds = (await (await h.request('POST', '/api/v1/datasets', { name: 'weather cases', description: 'Promoted from production' })).json()) as {
    dataset: DatasetSummary;
  };
  await h.request('POST', `/api/v1/datasets/${ds.dataset.id}/items/from-traces`, { traceIds: [agent.traceId] });
  const pages: [string, string][] = [
    ['overview', '/'],
    ['models', '/models'],
    ['traces', '/traces'],
    ['trace', `/traces/${agent.traceId}`],
    ['promote', `/traces/${agent.traceId}/promote`],
    ['sessions', '/sessions'],
    ['session', '/sessions/s-1'],
    ['datasets', '/datasets'],
    ['dataset', `/datasets/${ds.dataset.id}`],
    ['settings', '/settings'],
    ['notfound', '/traces/00000000000000000000000000000000'],
  ];
  for (const scheme of ['light', 'dark'] as const) {
    const page = await h.newPage({ colorScheme: scheme });
    for (const [name, path] of pages) {
      await page.goto(h.parallax.dashboardUrl + path);
      await page.waitForTimeout(200);
      await page.screenshot({ path: `${dir}/${name}-${scheme}.png`, fullPage: true });
    }
    await page.goto(h.parallax.dashboardUrl + '/traces');
    await page.getByText('More filters').click();
    await page.screenshot({ path: `${dir}/traces-filters-${scheme}.png` });
    await page.goto(h.parallax.dashboardUrl + `/datasets/${ds.dataset.id}`);
    await page.locator('[data-testid="item-edit"]').first().click();
    await page.waitForTimeout(300);
    // From the top: a page scrolled to the item would put the sticky header over the middle of the shot.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: `${dir}/dataset-edit-${scheme}.png`, fullPage: true });
    await page.locator('[data-testid="item-metadata-json"]').fill('{ "topic": 3 }');
    await page.locator('[data-testid="item-save"]').click();
    await page.locator('[data-testid="item-edit-error"]').waitFor();
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: `${dir}/dataset-edit-error-${scheme}.png`, fullPage: true });
    await page.goto(h.parallax.dashboardUrl + '/traces?model=gpt-4o-mini');
    await page.locator('[data-testid="bulk-count-matching"]').click();
    await page.locator('[data-testid="bulk-matching-preview"]').waitFor();
    await page.screenshot({ path: `${dir}/traces-matching-${scheme}.png` });
    // Narrow screens: axis labels and wrapping.
    for (const width of [390, 760]) {
      await page.setViewportSize({ width, height: 900 });
      for (const [name, path] of [['overview', '/'], ['overview-7d', '/?range=7d'], ['session', '/sessions/s-1'], ['traces', '/traces']] as const) {
        await page.goto(h.parallax.dashboardUrl + path);
        await page.waitForTimeout(200);
        await page.screenshot({ path: `${dir}/${name}-${width}-${scheme}.png`, fullPage: true });
      }
    }
  }
} finally {
  await h.close();
}
