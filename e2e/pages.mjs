// What every portal page must be in a browser, at a phone's width (390×844) and a PC's
// (1280×800): no console or page errors, no horizontal scrolling at phone width, no
// violations that axe-core reports at WCAG A/AA, and a full-page screenshot a newcomer can
// open: e2e/artifacts/screenshots/<page>-<phone|pc>.png (README, "What you see").
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { watchedPage } from './browser.mjs';

export const WIDTHS = {
  phone: { width: 390, height: 844 },
  pc: { width: 1280, height: 800 },
};

const SHOTS = new URL('./artifacts/screenshots/', import.meta.url).pathname;

/**
 * A watched page at `width` (a key of WIDTHS) whose browser signed in through the form as
 * `user` (identity.mjs readyUser: loginId, password; no second factor). `blockWasm` keeps
 * JavaScript's bundle out, as for a visitor without JavaScript (use `javaScriptEnabled:
 * false` in `options` for none at all).
 */
export async function signedInPage(browser, stack, user, width, options = {}) {
  const watched = await watchedPage(browser, { viewport: WIDTHS[width], ...options });
  const { page } = watched;
  await page.goto(`${stack.url}/login`);
  await page.locator('input[name=login_id]').fill(user.loginId);
  await page.locator('input[name=password]').fill(user.password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.getByRole('button', { name: 'ログイン' }).click(),
  ]);
  // Let the landing page finish loading (its script and bundle), so that the test's next
  // page.goto does not cut a request short.
  await page.waitForLoadState('networkidle');
  watched.problems.length = 0;
  return watched;
}

/** Resolves once the page has hydrated (App marks `<body data-hydrated>`). */
export async function pageHydrated(page, problems, timeout = 15_000) {
  try {
    await page.locator('body[data-hydrated]').waitFor({ state: 'attached', timeout });
  } catch (e) {
    throw new Error(`the page did not hydrate: ${e.message}\n${problems.join('\n')}`);
  }
}

/** What went wrong on the page, but for a favicon request cut short by a navigation. */
export function realProblems(problems) {
  return problems.filter((p) => !/favicon\.svg net::ERR_ABORTED/.test(p));
}

/**
 * The checks every page passes, then its screenshot `<name>-<width>.png`. `problems` is
 * the watched page's list of console errors, page errors and failed requests.
 */
export async function checkPage(page, problems, name, width) {
  assert.deepEqual(realProblems(problems), [], `${name} at ${width}: no console errors or failed requests`);
  if (width === 'phone') {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name} at phone width scrolls sideways by ${overflow}px`);
  }
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const found = axe.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
  assert.deepEqual(found, [], `${name} at ${width}: axe-core violations`);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}${name}-${width}.png`, fullPage: true });
}
