// LLM input and output are untrusted. Messages, names and ids carrying HTML, script and
// javascript: links must show as the literal text they are, on every page that shows them.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetResponse, TraceListResponse, TraceResponse } from '../../collector/src/api/contract.ts';
import { withContext } from '@parallax/sdk';
import { failOnDialog, screenshot, startHarness, type Harness } from './support.ts';

const SCRIPT = '<script>alert(1)</script>';
const IMG = '<img src=x onerror=alert(2)>';
const LINK = '[click](javascript:alert(3))';
const HIDDEN = '**Totally safe** <details open ontoggle=alert(4)><summary>x</summary></details>\n\n```html\n<svg onload=alert(5)>\n```';
const ANSWER = `Sure! ${IMG} and ${LINK} <a href="javascript:alert(6)">here</a>`;
const EVIL_MODEL = 'gpt-4o-mini<img src=x onerror=alert(7)>';
const EVIL_SESSION = '<b onmouseover=alert(8)>s1</b>';

let h: Harness;
let page: Page;
let dialogs: { dialogs: string[] };
let traceId: string;
let spanId: string;

beforeAll(async () => {
  h = await startHarness('<i>evil-service</i>');
  h.openaiServer.enqueue({ text: ANSWER, usage: { input_tokens: 10, output_tokens: 10 } });
  await withContext({ sessionId: EVIL_SESSION, userId: IMG, tags: [SCRIPT] }, () =>
    h.openai.chat.completions.create({
      model: EVIL_MODEL,
      messages: [
        { role: 'system', content: SCRIPT },
        { role: 'user', content: `${IMG}\n${LINK}\n${HIDDEN}` },
      ],
    }),
  );
  await h.flush();
  traceId = (await h.parallax.api<TraceListResponse>('/api/v1/traces')).traces[0]!.traceId;
  const { trace } = await h.parallax.api<TraceResponse>(`/api/v1/traces/${traceId}`);
  spanId = trace.spans.find((s) => s.llm)!.spanId;
  page = await h.newPage();
  dialogs = failOnDialog(page);
});

afterAll(async () => {
  await h?.close();
});

/** Nothing the data carried became an element or a live link. */
async function expectInert(where: string) {
  // Give any injected handler (onerror, onload, ontoggle) the chance to fire.
  await page.waitForTimeout(300);
  expect(dialogs.dialogs, `dialogs on ${where}`).toEqual([]);
  const injected = await page.evaluate(() => ({
    img: document.querySelectorAll('main img').length,
    script: document.querySelectorAll('main script').length,
    svg: [...document.querySelectorAll('main svg')].filter((s) => s.getAttribute('onload') !== null).length,
    details: document.querySelectorAll('main details[ontoggle]').length,
    handlers: [...document.querySelectorAll('main *')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
    jsLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
  }));
  expect(injected, `injected elements on ${where}`).toEqual({ img: 0, script: 0, svg: 0, details: 0, handlers: 0, jsLinks: 0 });
}

describe('untrusted content renders as text', () => {
  it('on the trace page: every message is literal text inside its message box', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/traces/${traceId}?span=${spanId}`);
    const detail = page.locator('[data-testid="span-detail"]');
    await detail.waitFor();
    expect(await detail.locator('[data-testid="system-instructions"] [data-testid="part-text"]').innerText()).toBe(SCRIPT);
    expect(await detail.locator('[data-testid="input-message"] [data-testid="part-text"]').innerText()).toBe(`${IMG}\n${LINK}\n${HIDDEN}`);
    expect(await detail.locator('[data-testid="output-message"] [data-testid="part-text"]').innerText()).toBe(ANSWER);
    expect(await page.getByText(SCRIPT, { exact: true }).first().isVisible()).toBe(true);
    // The user id and session id carry HTML too; they show as text in the header links.
    expect(await page.locator('[data-testid="trace-user"]').innerText()).toBe(IMG);
    expect(await page.locator('[data-testid="trace-session"]').innerText()).toBe(EVIL_SESSION);
    await expectInert('trace page');
    await screenshot(page, 'xss-trace-light');
  });

  it('on the overview, models, traces and sessions pages', async () => {
    for (const path of ['/', '/models', '/traces', `/traces?user=${encodeURIComponent(IMG)}`, '/sessions']) {
      await page.goto(`${h.parallax.dashboardUrl}${path}`);
      await page.locator('main h1').first().waitFor();
      await expectInert(path);
    }
    await page.goto(`${h.parallax.dashboardUrl}/models`);
    expect(await page.locator('[data-testid="model-name"]').innerText()).toBe(EVIL_MODEL);
    await page.goto(`${h.parallax.dashboardUrl}/sessions`);
    expect(await page.locator('[data-testid="session-link"]').innerText()).toBe(EVIL_SESSION);
  });

  it('on the session page: the session id, user, model and every message are literal text', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/sessions`);
    await page.locator('[data-testid="session-link"]').click();
    await page.locator('[data-testid="session-turn"]').waitFor();
    expect(await page.locator('[data-testid="session-id"]').innerText()).toBe(EVIL_SESSION);
    expect(await page.locator('[data-testid="session-user"]').innerText()).toBe(IMG);
    expect(await page.locator('[data-testid="session-model"] code').innerText()).toBe(EVIL_MODEL);
    expect(await page.locator('[data-testid="turn-model"]').innerText()).toBe(EVIL_MODEL);
    expect(await page.locator('[data-testid="turn-input"] [data-testid="part-text"]').innerText()).toBe(`${IMG}\n${LINK}\n${HIDDEN}`);
    expect(await page.locator('[data-testid="turn-output"] [data-testid="part-text"]').innerText()).toBe(ANSWER);
    expect(await page.locator('[data-testid="session-trace-link"]').innerText()).toBe('chat gpt-4o-mini<img src=x onerror=alert(7)>');
    await expectInert('session page');
    await screenshot(page, 'xss-session-light');
  });

  it('on the promote form and in the dataset the call is promoted to', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/traces/${traceId}/promote?span=${spanId}`);
    expect(await page.locator('[data-testid="expected-output"]').inputValue()).toBe(ANSWER);
    await expectInert('promote page');

    await page.locator('[data-testid="promote-dataset-new-name"]').fill(`<img src=x onerror=alert(9)>`);
    await page.locator('[data-testid="promote-save"]').click();
    await page.locator('[data-testid="promotion-link"]').click();
    await page.locator('[data-testid="dataset-item"]').waitFor();
    expect(await page.locator('[data-testid="dataset-title"]').innerText()).toBe('<img src=x onerror=alert(9)>');
    expect(await page.locator('[data-testid="item-expected"]').innerText()).toBe(ANSWER);
    expect(await page.locator('[data-testid="item-input"] [data-testid="system-instructions"] [data-testid="part-text"]').innerText()).toBe(SCRIPT);
    await expectInert('dataset page');
    const datasetId = new URL(page.url()).pathname.split('/').pop()!;
    const { items } = await h.parallax.api<DatasetResponse>(`/api/v1/datasets/${datasetId}`);
    expect(items[0]!.expectedOutput).toBe(ANSWER);
    await page.goto(`${h.parallax.dashboardUrl}/datasets`);
    await expectInert('dataset list');
  });
});
