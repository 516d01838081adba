// The portal's appliance list as people get it: the server's HTML alone, a browser with
// JavaScript off, and a hydrated page whose filter works without a page load.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { launch, watchedPage as plainPage, hydrated } from './browser.mjs';
import { readyUser } from './identity.mjs';

const DEMO = [
  { name: 'utm1', id: 'c025a28b0a41', status: 'オンライン' },
  { name: 'utm2', id: 'c025a28b0a42', status: 'オンライン' },
  { name: 'utm3', id: 'c025a28b0a43', status: 'オフライン' },
];
const OTHER_CUSTOMERS_DEVICE = '0090fe7700aa';

let stack;
let browser;
let demo;
before(async () => {
  [stack, browser] = await Promise.all([startStack(), launch()]);
  // The demo company's admin, signed in (the sign-in itself is signin.test.mjs's).
  demo = await readyUser(stack, '/api/v1/admin/customers/cus_demo/accounts');
});

/**
 * A watched page whose browser has signed in as the demo admin through the form (the
 * session cookies are `__Host-` ones, which only the site itself may set).
 */
async function watchedPage(b, options = {}, { blockWasm = false } = {}) {
  const watched = await plainPage(b, options);
  const { page } = watched;
  // Blocked from the start, or the bundle would come from the cache of the sign-in page.
  if (blockWasm) await page.route('**/pkg/mimamori_bg.wasm', (route) => route.abort());
  await page.goto(`${stack.url}/login`);
  await page.locator('input[name=login_id]').fill(demo.loginId);
  await page.locator('input[name=password]').fill(demo.password);
  await Promise.all([page.waitForURL(`${stack.url}/`), page.getByRole('button', { name: 'ログイン' }).click()]);
  await page.goto('about:blank');
  watched.problems.length = 0;
  return watched;
}
after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Rows of the appliance table as the user reads them. */
async function rows(page) {
  return page.locator('table.appliances tbody tr').evaluateAll((trs) =>
    trs.map((tr) => ({
      name: tr.cells[0].textContent.trim(),
      id: tr.cells[1].textContent.trim(),
      shown: tr.cells[2].textContent.trim(),
      datetime: tr.cells[2].querySelector('time')?.getAttribute('datetime') ?? null,
      status: tr.cells[3].textContent.trim(),
    })));
}

/** How Asia/Tokyo shows an instant: 2026/11/25 19:00, computed independently of the app. */
function tokyoMinute(iso) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.year}/${parts.month}/${parts.day} ${parts.hour}:${parts.minute}`;
}

function assertDemoRows(got, expected = DEMO) {
  assert.deepEqual(got.map(({ name, id, status }) => ({ name, id, status })), expected);
  for (const row of got) {
    assert.match(row.datetime, /\+09:00$/, `${row.name}: machine-readable time in +09:00`);
    assert.equal(row.shown, tokyoMinute(row.datetime), `${row.name}: shown in Asia/Tokyo`);
  }
}

test('the server HTML already holds the appliance list, in Japanese, before any script runs', async () => {
  const { status, html } = await demo.visitor.get('/appliances');
  assert.equal(status, 200);
  assert.match(html, /<html lang="ja">/);
  for (const a of DEMO) {
    assert.match(html, new RegExp(`<tr data-device-id="${a.id}">.*?${a.name}.*?${a.status}</span>`));
  }
  assert.match(html, /3台中 2台がオンラインです/);
  // The script tags that hydrate the page come after the list is complete.
  assert.ok(html.indexOf('c025a28b0a43') < html.lastIndexOf('<script'));
  assert.ok(!html.includes(OTHER_CUSTOMERS_DEVICE), "another customer's appliance must never appear");
});

test('with JavaScript off the list is readable and the filter works through the form', async () => {
  const { page, context, problems } = await watchedPage(browser, { javaScriptEnabled: false });
  try {
    await page.goto(`${stack.url}/appliances`);
    assertDemoRows(await rows(page));
    await expectVisible(page.getByRole('button', { name: '絞り込む' }));

    await page.getByLabel('オンラインのみ').check();
    await Promise.all([page.waitForURL(/[?&]online=1/), page.getByRole('button', { name: '絞り込む' }).click()]);
    assertDemoRows(await rows(page), DEMO.slice(0, 2));
    assert.ok(await page.getByLabel('オンラインのみ').isChecked(), 'the box stays checked after reload');
    // With scripting off Chromium refuses the module preload of the bundle ("csp"); that
    // is the browser honouring the setting, not a fault of the page.
    const scriptPreload = /request failed: .*\/pkg\/mimamori\.js csp$/;
    assert.deepEqual(problems.filter((p) => !scriptPreload.test(p)), []);
  } finally {
    await context.close();
  }
});

test('after hydration the オンラインのみ box narrows the list in place, without a page load', async () => {
  const { page, context, problems } = await watchedPage(browser);
  try {
    const documents = [];
    page.on('request', (r) => { if (r.resourceType() === 'document') documents.push(r.url()); });
    const wasm = page.waitForResponse((r) => r.url().endsWith('/pkg/mimamori_bg.wasm'));
    await page.goto(`${stack.url}/appliances`);
    const wasmResponse = await wasm;
    assert.equal(wasmResponse.status(), 200);
    assert.equal(wasmResponse.headers()['content-type'], 'application/wasm');
    await hydrated(page, problems);
    assertDemoRows(await rows(page));

    await page.evaluate(() => { window.__sameDocument = true; });
    await page.getByLabel('オンラインのみ').check();
    await page.locator('tr[data-device-id="c025a28b0a43"]').waitFor({ state: 'detached' });
    assertDemoRows(await rows(page), DEMO.slice(0, 2));

    await page.getByLabel('オンラインのみ').uncheck();
    await page.locator('tr[data-device-id="c025a28b0a43"]').waitFor();
    assertDemoRows(await rows(page));

    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no page load happened');
    assert.deepEqual(documents, [`${stack.url}/appliances`]);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the hydration check fails when the wasm bundle cannot load', async () => {
  // Guards the test above: if the bundle is missing or broken, `hydrated` must reject.
  const { page, context, problems } = await watchedPage(browser, {}, { blockWasm: true });
  try {
    await page.goto(`${stack.url}/appliances`);
    await assert.rejects(hydrated(page, problems, 3_000), /did not hydrate/);
    assert.ok(problems.some((p) => p.includes('mimamori_bg.wasm')), problems.join('\n'));
  } finally {
    await context.close();
  }
});

test('on a smartphone each appliance is a readable card', async () => {
  const { page, context, problems } = await watchedPage(browser, {
    viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  try {
    await page.goto(`${stack.url}/appliances`);
    await hydrated(page, problems);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `no horizontal scrolling (page is ${width}px wide)`);
    await page.screenshot({ path: new URL('./artifacts/appliances-phone.png', import.meta.url).pathname, fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

async function expectVisible(locator) {
  assert.ok(await locator.isVisible(), `${locator} should be visible`);
}
