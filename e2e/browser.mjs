// Headless Debian Chromium through playwright-core (never a downloaded browser), with a
// page that records every console error, page error and failed request, so a test can
// fail on any of them.
import { chromium } from 'playwright-core';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** A new page whose `problems` array collects what went wrong while it was open. */
export async function watchedPage(browser, options = {}) {
  const context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo', ...options });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  return { page, context, problems };
}

/**
 * Resolves once the portal has hydrated: the filter's submit button, which only serves
 * visitors without JavaScript, is hidden by an effect that runs only after hydration.
 * Rejects (with what went wrong) if that does not happen within `timeout` ms.
 */
export async function hydrated(page, problems, timeout = 15_000) {
  try {
    await page.locator('form.filter button[type=submit]').waitFor({ state: 'hidden', timeout });
  } catch (e) {
    throw new Error(`the page did not hydrate: ${e.message}\n${problems.join('\n')}`);
  }
}
