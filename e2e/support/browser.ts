// Debian's Chromium driven by playwright-core; never a downloaded browser.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export async function launchChromium(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (...args) => waitsForHydration(await newPage(...args));
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => {
    const context: BrowserContext = await newContext(...args);
    // Without JavaScript a page never becomes interactive: there is nothing to wait for.
    if (args[0]?.javaScriptEnabled === false) return context;
    const contextPage = context.newPage.bind(context);
    context.newPage = async () => waitsForHydration(await contextPage());
    return context;
  };
  return browser;
}

/**
 * After a full page load, the dashboard's scripts may still be starting: a menu choice made then
 * is lost (seen on a loaded CI machine). Every goto and reload waits for the page to say it is
 * interactive (`html[data-hydrated]`, set by the root layout).
 */
function waitsForHydration(page: Page): Page {
  const goto = page.goto.bind(page);
  page.goto = async (url, options) => {
    const response = await goto(url, options);
    await page.locator('html[data-hydrated]').waitFor({ timeout: 30_000 });
    return response;
  };
  const reload = page.reload.bind(page);
  page.reload = async (options) => {
    const response = await reload(options);
    await page.locator('html[data-hydrated]').waitFor({ timeout: 30_000 });
    return response;
  };
  return page;
}
