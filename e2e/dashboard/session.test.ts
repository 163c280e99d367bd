// A session read as one conversation: reached from the sessions list and from a trace, its totals,
// its traces oldest first with what each LLM call added and answered, and paging through a long one.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withContext } from '@parallax/sdk';
import type { SessionListResponse, TraceListResponse } from '../../collector/src/api/contract.ts';
import { agentRun, screenshot, startHarness, type Harness } from './support.ts';

let h: Harness;
let page: Page;
let agentTraceId: string;
let followUpTraceId: string;

// Published prices per million tokens: gpt-4o-mini $0.15 in / $0.60 out; gpt-4o $2.50 in / $10 out.
const agentCost = ((120 + 180) * 0.15 + (18 + 24) * 0.6) / 1e6;
const followUpCost = (400 * 2.5 + 10 * 10) / 1e6;

beforeAll(async () => {
  h = await startHarness('weather-chat');
  await agentRun(h, { sessionId: 'support-7', userId: 'dana' });
  // The next turn of the same conversation, on another model, carries the history before its new question.
  h.openaiServer.enqueue({ text: 'Rain tomorrow, 12°C.', usage: { input_tokens: 400, output_tokens: 10 } });
  await withContext({ sessionId: 'support-7', userId: 'dana' }, () =>
    h.openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'What is the weather in Paris?' },
        { role: 'assistant', content: 'It is 18°C and sunny in Paris.' },
        { role: 'user', content: 'And tomorrow?' },
      ],
    }),
  );
  await agentRun(h, { sessionId: 'someone-else', userId: 'erin', city: 'Oslo' });
  await h.flush();
  const { traces } = await h.parallax.api<TraceListResponse>('/api/v1/traces?session=support-7');
  [followUpTraceId, agentTraceId] = traces.map((t) => t.traceId) as [string, string];
  page = await h.newPage();
});

afterAll(async () => {
  await h?.close();
});

const turnTexts = (turn: ReturnType<Page['locator']>, testid: string) => turn.locator(`[data-testid="${testid}"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-role')));

describe('session page', () => {
  it('opens from the sessions list with the whole session summed: calls, cost, tokens, models, user', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/sessions`);
    await page.locator('[data-testid="session-row"][data-session-id="support-7"] [data-testid="session-link"]').click();
    await page.waitForURL(/\/sessions\/support-7$/);
    expect(await page.locator('[data-testid="session-id"]').innerText()).toBe('support-7');
    const value = async (testid: string) => page.locator(`[data-testid="${testid}"]`).getAttribute('data-value');
    expect(await value('session-trace-count')).toBe('2');
    expect(await value('session-calls')).toBe('3');
    expect(await value('session-tokens')).toBe(String(120 + 18 + 180 + 24 + 400 + 10));
    expect(Number(await value('session-cost'))).toBeCloseTo(agentCost + followUpCost, 12);
    expect(Number(await value('session-duration'))).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="session-user"]').innerText()).toBe('dana');
    const models = await page.locator('[data-testid="session-model"]').evaluateAll((els) =>
      els.map((e) => [e.getAttribute('data-model'), e.getAttribute('data-calls')]).sort(),
    );
    expect(models).toEqual([
      ['gpt-4o', '1'],
      ['gpt-4o-mini', '2'],
    ]);
    // The list's figures and the page's agree.
    const { sessions } = await h.parallax.api<SessionListResponse>('/api/v1/sessions');
    expect(sessions.find((s) => s.sessionId === 'support-7')).toMatchObject({ llmCalls: 3, traces: 2 });
    await screenshot(page, 'session-light');
  });

  it('shows the conversation oldest first: each call with what it added, its answer, model, cost and latency', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/sessions/support-7`);
    const traces = page.locator('[data-testid="session-trace"]');
    expect(await traces.evaluateAll((els) => els.map((e) => e.getAttribute('data-trace-id')))).toEqual([agentTraceId, followUpTraceId]);

    const agentTurns = traces.nth(0).locator('[data-testid="session-turn"]');
    expect(await agentTurns.count()).toBe(2);
    // First call: the user's question, answered with a tool call.
    expect(await turnTexts(agentTurns.nth(0), 'turn-input')).toEqual(['user']);
    expect(await agentTurns.nth(0).locator('[data-testid="turn-input"]').innerText()).toContain('What is the weather in Paris?');
    expect(await agentTurns.nth(0).locator('[data-testid="turn-output"] [data-testid="tool-call-name"]').innerText()).toBe('get_weather');
    // Second call: only the tool's result is new; the history is not repeated.
    expect(await turnTexts(agentTurns.nth(1), 'turn-input')).toEqual(['tool']);
    expect(await agentTurns.nth(1).innerText()).toContain('2 earlier messages not repeated');
    expect(await agentTurns.nth(1).locator('[data-testid="turn-output"]').innerText()).toContain('It is 18°C and sunny in Paris.');
    expect(await agentTurns.nth(1).locator('[data-testid="turn-model"]').innerText()).toBe('gpt-4o-mini');

    const followUp = traces.nth(1).locator('[data-testid="session-turn"]');
    expect(await followUp.count()).toBe(1);
    expect(await followUp.locator('[data-testid="turn-input"]').innerText()).toContain('And tomorrow?');
    expect(await followUp.locator('[data-testid="turn-input"]').innerText()).not.toContain('What is the weather');
    expect(await followUp.locator('[data-testid="turn-output"]').innerText()).toContain('Rain tomorrow, 12°C.');
    expect(await followUp.locator('[data-testid="turn-model"]').innerText()).toBe('gpt-4o');
    expect(Number(await followUp.locator('[data-testid="turn-cost"]').getAttribute('data-value'))).toBeCloseTo(followUpCost, 12);
    expect(await followUp.locator('[data-testid="turn-cost"]').innerText()).toBe('$0.0011');
    expect(Number(await followUp.locator('[data-testid="turn-latency"]').getAttribute('data-value'))).toBeGreaterThan(0);

    const turnCosts = await page.locator('[data-testid="turn-cost"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    expect(turnCosts.reduce((a, b) => a + b, 0)).toBeCloseTo(agentCost + followUpCost, 12);
    expect(await page.locator('[data-testid="session-page-info"]').innerText()).toBe('Traces 1–2 of 2, oldest first');
  });

  it("links each call to its place in the trace, and the trace's session link back to the session", async () => {
    await page.goto(`${h.parallax.dashboardUrl}/sessions/support-7`);
    const spanId = await page.locator('[data-testid="session-turn"]').nth(1).getAttribute('data-span-id');
    await page.locator('[data-testid="session-turn"]').nth(1).locator('[data-testid="turn-link"]').click();
    await page.waitForURL(new RegExp(`/traces/${agentTraceId}\\?span=${spanId}$`));
    await page.locator(`[data-testid="span-detail"][data-span-id="${spanId}"]`).waitFor();
    await page.locator('[data-testid="trace-session"]').click();
    await page.waitForURL(/\/sessions\/support-7$/);
    await page.locator('[data-testid="session-trace"]').first().waitFor();
  });

  it('pages through a session longer than one page, and says where it is', async () => {
    for (let i = 0; i < 21; i++) h.openaiServer.enqueue({ text: `answer ${i}`, usage: { input_tokens: 5, output_tokens: 1 } });
    for (let i = 0; i < 21; i++) {
      await withContext({ sessionId: 'long/chat' }, () => h.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${i}` }] }));
    }
    await h.flush();
    await page.goto(`${h.parallax.dashboardUrl}/sessions/${encodeURIComponent('long/chat')}`);
    expect(await page.locator('[data-testid="session-id"]').innerText()).toBe('long/chat');
    const questions = () => page.locator('[data-testid="turn-input"]').allInnerTexts();
    const first = await questions();
    expect(first).toHaveLength(20);
    expect(first[0]).toContain('question 0');
    expect(first[19]).toContain('question 19');
    expect(await page.locator('[data-testid="session-page-info"]').innerText()).toBe('Traces 1–20 of 21, oldest first');
    await page.locator('[data-testid="next-page"]').click();
    await page.locator('[data-testid="session-page-info"]').getByText('Traces 21–21 of 21').waitFor();
    expect(await questions()).toEqual([expect.stringContaining('question 20')]);
    // Totals stay the whole session's on every page.
    expect(await page.locator('[data-testid="session-calls"]').getAttribute('data-value')).toBe('21');
    expect(await page.locator('[data-testid="next-page"]').count()).toBe(0);
    await page.locator('[data-testid="previous-page"]').click();
    await page.locator('[data-testid="session-page-info"]').getByText('Traces 1–20 of 21').waitFor();
    expect(await questions()).toEqual(first);
  });

  it('answers an unknown session with a 404 page that names it', async () => {
    const response = await page.goto(`${h.parallax.dashboardUrl}/sessions/no-such-session`);
    expect(response?.status()).toBe(404);
    expect(await page.locator('main').innerText()).toContain('no-such-session');
  });
});
