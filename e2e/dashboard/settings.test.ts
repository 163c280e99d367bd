// Projects and keys as an operator uses them: a key's secret is shown once, a revoked key is refused
// by the collector, a new project is switched to, and prices can be overridden.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelMetricsResponse, ProjectListResponse } from '../../collector/src/api/contract.ts';
import { screenshot, startHarness, type Harness } from './support.ts';

let h: Harness;
let page: Page;

beforeAll(async () => {
  h = await startHarness('settings-app');
  h.openaiServer.enqueue({ text: 'hello', usage: { input_tokens: 1_000_000, output_tokens: 0 } });
  await h.openai.chat.completions.create({ model: 'acme-finetune-1', messages: [{ role: 'user', content: 'hi' }] });
  await h.flush();
  page = await h.newPage();
});

afterAll(async () => {
  await h?.close();
});

/** What the collector says to a key: 200 when it may read, 401 when it is refused. */
const statusWithKey = async (secret: string) =>
  (await fetch(`${h.parallax.collectorUrl}/api/v1/project`, { headers: { authorization: `Bearer ${secret}` } })).status;

describe('keys', () => {
  it('creates a key, shows its secret once, and a revoked key is refused by the collector', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/settings`);
    await page.locator('[data-testid="key-name"]').fill('ci job');
    await page.locator('[data-testid="key-scope"]').selectOption('full');
    await page.locator('[data-testid="key-create"]').click();
    const secret = (await page.locator('[data-testid="key-secret"]').innerText()).trim();
    expect(secret).toMatch(/^px_\S{20,}$/);
    expect(await statusWithKey(secret)).toBe(200);
    // The set-up snippets use the new key while it is on screen.
    expect(await page.locator('[data-testid="snippet-otlp"]').innerText()).toContain(`Authorization=Bearer ${secret}`);
    await screenshot(page, 'settings-light');

    // Shown once: after a reload only the prefix is left.
    await page.goto(`${h.parallax.dashboardUrl}/settings`);
    const row = page.locator('[data-testid="key-row"][data-key-name="ci job"]');
    await row.waitFor();
    expect(await page.locator('[data-testid="key-secret"]').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    expect(await row.innerText()).toContain(secret.slice(0, 6));

    page.once('dialog', (dialog) => void dialog.accept());
    await row.locator('[data-testid="key-revoke"]').click();
    await page.locator('[data-testid="key-revoked"]').waitFor();
    expect(await row.locator('[data-testid="key-status"]').innerText()).toBe('Revoked');
    expect(await statusWithKey(secret)).toBe(401);
    // Ingest refuses it too.
    const ingest = await fetch(`${h.parallax.collectorUrl}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [] }),
    });
    expect(ingest.status).toBe(401);
  });
});

describe('price overrides', () => {
  it('prices an unpriced model and re-prices the stored call', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/models`);
    expect(await page.locator('[data-testid="model-row"][data-model="acme-finetune-1"] [data-testid="model-cost"]').innerText()).toBe('unpriced');

    await page.goto(`${h.parallax.dashboardUrl}/settings`);
    const form = page.locator('[data-testid="override-form"]');
    await form.locator('input[name="model"]').fill('acme-finetune-1');
    await form.locator('input[name="inputPerMTok"]').fill('2');
    await form.locator('input[name="outputPerMTok"]').fill('8');
    await form.locator('input[name="effectiveFrom"]').fill('2020-01-01');
    await form.getByRole('button', { name: 'Add price' }).click();
    const added = page.locator('[data-testid="override-row"][data-model="acme-finetune-1"]');
    await added.or(page.locator('[data-testid="override-error"]')).waitFor();
    expect(await page.locator('[data-testid="override-error"]').allInnerTexts()).toEqual([]);
    expect(await added.count()).toBe(1);
    await page.locator('[data-testid="reprice"]').click();
    expect(await page.locator('[data-testid="repriced"]').innerText()).toMatch(/Re-priced [1-9]\d* stored calls/);

    const metrics = await h.parallax.api<ModelMetricsResponse>('/api/v1/metrics/models');
    expect(metrics.models[0]!.cost).toBeCloseTo(2, 9);
    await page.goto(`${h.parallax.dashboardUrl}/models`);
    expect(await page.locator('[data-testid="model-row"][data-model="acme-finetune-1"] [data-testid="model-cost"]').innerText()).toBe('$2.00');
  });
});

describe('projects', () => {
  it('creates a project, works in it, and switches back from the header', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/settings`);
    await page.locator('[data-testid="new-project-name"]').fill('staging');
    await page.locator('[data-testid="project-create"]').click();
    const secret = (await page.locator('[data-testid="project-secret"]').innerText()).trim();
    expect(await statusWithKey(secret)).toBe(200);
    const { projects } = await h.parallax.api<ProjectListResponse>('/api/v1/projects');
    const staging = projects.find((p) => p.name === 'staging')!;

    // The new project is the current one: its overview is the empty first-run page.
    await page.goto(h.parallax.dashboardUrl);
    await page.locator('[data-testid="first-run"]').waitFor();
    expect(await page.locator('[data-testid="project-select"]').inputValue()).toBe(staging.id);

    const home = projects.find((p) => p.id !== staging.id)!;
    await page.locator('[data-testid="project-select"]').selectOption(home.id);
    await page.locator('[data-testid="model-row"][data-model="acme-finetune-1"]').waitFor();
    expect(await page.locator('[data-testid="first-run"]').count()).toBe(0);
    // The choice sticks for the next pages.
    await page.goto(`${h.parallax.dashboardUrl}/settings`);
    expect(await page.locator('[data-testid="settings-current-project"]').innerText()).toBe(home.name);
  });
});

describe('form posts from another site', () => {
  it('are refused', async () => {
    const response = await fetch(`${h.parallax.dashboardUrl}/settings?/createProject`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=pwned',
    });
    expect(response.status).toBe(403);
    const { projects } = await h.parallax.api<ProjectListResponse>('/api/v1/projects');
    expect(projects.some((p) => p.name === 'pwned')).toBe(false);
  });
});
