// No customer sees another's data; no reseller sees another reseller's customers. From
// the outside, for every portal route and server function that names a customer and for
// the scoped API: each caller × each customer gets the data, or a 404 that says nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { startStack } from './stack.mjs';
import { enrolledDevice, sendReport, report, threat } from './devices.mjs';
import { Visitor, api, readyUser } from './identity.mjs';

let stack;
before(async () => {
  stack = await startStack({ seed: false });
});
after(async () => {
  await stack?.stop();
});

// Every page and server function of the portal, read from its source, so that a new one
// cannot be added without this test knowing it.
const appSrc = new URL('../app/src/', import.meta.url);
const sources = readdirSync(appSrc, { recursive: true }).filter((f) => f.endsWith('.rs')).map((f) => readFileSync(new URL(f, appSrc), 'utf8'));
const SERVER_FNS = sources.flatMap((src) => [...src.matchAll(/#\[server\(prefix = "\/_app", endpoint = "([a-z_]+)"\)\]/g)].map((m) => m[1]));
// Each server function's parameter names, read from its signature.
const PARAMS = Object.fromEntries(sources.flatMap((src) => [...src.matchAll(/#\[server\(prefix = "\/_app", endpoint = "([a-z_]+)"\)\]\s*pub async fn \w+\(([\s\S]*?)\)\s*->/g)]
  .map((m) => [m[1], [...m[2].matchAll(/(?:^|,)\s*(?:#\[server\([^)]*\)\]\s*)?([a-z_]+)\s*:/g)].map((a) => a[1])])));
// A route whose parameters name no customer's object (a month): the caller's own pages.
const ownOnly = (route) => route.includes(':') && [...route.matchAll(/:([a-z_]+)/g)].every((m) => m[1] === 'month');
// The console's pages and server functions: staff only (a customer admin gets 404 even
// for their own company).
const staffOnly = (route) => route.startsWith('/admin/');
const STAFF_FNS = ['customer_record', 'roster'];
const ROUTES = [...readFileSync(new URL('lib.rs', appSrc), 'utf8').matchAll(/path!\("([^"]*)"\)/g)].map((m) => m[1] || '/');

const CUSTOMERS = ['A', 'B', 'C'];
// Who may see which customer. R1 sells A, R2 sells B; C is the operator's own customer.
const VISIBLE = {
  adminA: ['A'],
  adminB: ['B'],
  staffR1: ['A'],
  staffR2: ['B'],
  operator: ['A', 'B', 'C'],
};

test('every portal route, server function and scoped API call keeps tenants apart', async () => {
  const reseller = async (name) => (await api(stack, 'POST', '/api/v1/admin/resellers', { name })).body.reseller_id;
  const R1 = await reseller('代理店いち');
  const R2 = await reseller('代理店に');
  const customer = async (name, resellerId) => {
    const body = { name, service_start: '2026-11-01', alert_recipients: [] };
    if (resellerId) body.reseller_id = resellerId;
    const r = await api(stack, 'POST', '/api/v1/admin/customers', body);
    assert.equal(r.status, 201);
    return r.body.customer_id;
  };
  const names = { A: '株式会社エー', B: '株式会社ビー', C: '株式会社シー' };
  const ids = { A: await customer(names.A, R1), B: await customer(names.B, R2), C: await customer(names.C) };
  const devices = { A: 'aa0000000001', B: 'bb0000000002', C: 'cc0000000003' };
  const alerts = {};
  for (const c of CUSTOMERS) {
    const t = await enrolledDevice(stack, ids[c], devices[c], `utm-${c}`);
    assert.equal((await sendReport(stack, t, report(`iso-${c}`, [threat(`iso-${c}-1`)]))).status, 202);
    [{ id: alerts[c] }] = stack.sql(`SELECT id FROM threats WHERE customer_id = '${ids[c]}'`);
  }
  // A route's or server function's parameter, filled with the object of customer `c`
  // it names; a parameter this test does not know fails it, so that a new kind of page
  // cannot slip past the matrix.
  // A month (`/reports/:month`) belongs to no customer: such a route is a page of the
  // caller's own company, checked with the pages without parameters below.
  const thisMonth = new Date(Date.now() + 9 * 3600 * 1000).toISOString().slice(0, 7);
  const objectOf = { id: (c) => ids[c], customer: (c) => ids[c], device: (c) => devices[c], alert: (c) => String(alerts[c]), month: () => thisMonth };
  const fill = (route, c) => route.replace(/:([a-z_]+)/g, (_, p) => {
    assert.ok(objectOf[p], `the isolation matrix does not know the route parameter :${p} (${route}): add it to objectOf`);
    return objectOf[p](c);
  });
  const OWN = { adminA: 'A', adminB: 'B' };

  const users = {
    adminA: await readyUser(stack, `/api/v1/admin/customers/${ids.A}/accounts`),
    adminB: await readyUser(stack, `/api/v1/admin/customers/${ids.B}/accounts`),
    staffR1: await readyUser(stack, `/api/v1/admin/resellers/${R1}/accounts`),
    staffR2: await readyUser(stack, `/api/v1/admin/resellers/${R2}/accounts`),
    operator: await readyUser(stack, '/api/v1/admin/operator/accounts'),
  };
  const token = async (body) => (await api(stack, 'POST', '/api/v1/admin/tokens', body)).body.token;
  const tokens = {
    staffR1: await token({ scope: 'reseller', reseller_id: R1, name: 'R1 CRM' }),
    staffR2: await token({ scope: 'reseller', reseller_id: R2, name: 'R2 CRM' }),
    operator: await token({ scope: 'operator', name: 'ops' }),
  };
  let cells = 0;
  const expectSeen = (who, c, status, body, what, may = VISIBLE[who].includes(c)) => {
    cells += 1;
    assert.equal(status, may ? 200 : 404, `${who} → ${what} of ${c}`);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    for (const other of CUSTOMERS.filter((o) => !VISIBLE[who].includes(o))) {
      // The id the caller asked for may be echoed (in the URL); no data of it may show.
      assert.ok(!text.includes(devices[other]) && !text.includes(names[other]),
        `${who} → ${what} of ${c}: nothing of ${other} may show`);
    }
  };

  for (const [who, user] of Object.entries(users)) {
    const v = user.visitor;
    for (const c of CUSTOMERS) {
      // Every page that names a customer (`/customers/:id/…`) or one of its objects
      // (`/alerts/:alert`, `/appliances/:device`), with the ids of customer c.
      for (const route of ROUTES.filter((r) => r.includes(':') && !ownOnly(r))) {
        const page = await v.get(fill(route, c));
        if (route.includes(':id')) {
          const may = VISIBLE[who].includes(c) && !(staffOnly(route) && OWN[who]);
          expectSeen(who, c, page.status, page.html, `page ${route}`, may);
        } else {
          // A customer admin's own URLs: their company's objects only; staff use /customers/:id/….
          expectSeen(who, c, page.status, page.html, `page ${route}`, OWN[who] === c);
        }
      }
      // Every server function that takes a customer, called as the hydrated page calls it.
      for (const fn of SERVER_FNS.filter((f) => PARAMS[f]?.includes('customer'))) {
        const args = Object.fromEntries(PARAMS[fn].filter((a) => objectOf[a]).map((a) => [a, objectOf[a](c)]));
        const res = await v.serverFn(fn, args);
        const may = VISIBLE[who].includes(c) && !(STAFF_FNS.includes(fn) && OWN[who]);
        expectSeen(who, c, res.status, await res.text(), `server fn ${fn}`, may);
      }
      // The console's forms: a staff member who may see the customer gets the form back
      // (400: an empty form is refused), anyone else a 404; nothing of another shows.
      for (const form of ['profile']) {
        const csrf = await v.csrf('/account');
        const res = await fetch(`${stack.url}/admin/customers/${ids[c]}/${form}`, {
          method: 'POST', redirect: 'manual', headers: v.formHeaders(), body: new URLSearchParams({ csrf }).toString(),
        });
        const may = VISIBLE[who].includes(c) && !OWN[who];
        cells += 1;
        assert.equal(res.status, may ? 400 : 404, `${who} → form ${form} of ${c}`);
        const text = await res.text();
        for (const other of CUSTOMERS.filter((o) => !VISIBLE[who].includes(o))) {
          assert.ok(!text.includes(names[other]), `${who} → form ${form} of ${c}: nothing of ${other}`);
        }
      }
    }
    // The home page and the customer list show exactly what is visible.
    const home = await v.get('/');
    assert.equal(home.status, 200);
    for (const c of CUSTOMERS) {
      cells += 1;
      const shows = home.html.includes(names[c]) || home.html.includes(devices[c]);
      assert.equal(shows, VISIBLE[who].includes(c), `${who}: / and customer ${c}`);
    }
    const list = await v.serverFn('customers');
    cells += 1;
    assert.equal(list.status, 200);
    const listed = (await list.json()).map((x) => x.id).sort();
    assert.deepEqual(listed, VISIBLE[who].map((c) => ids[c]).sort(), `${who}: server fn customers`);
    // The audit log: the operator's alone, page and server function.
    cells += 2;
    const audit = await v.get('/admin/audit');
    assert.equal(audit.status, who === 'operator' ? 200 : 404, `${who}: /admin/audit`);
    const auditFn = await v.serverFn('audit');
    assert.equal(auditFn.status, who === 'operator' ? 200 : 404, `${who}: server fn audit`);
  }

  // Every other page and server function, for every user: whatever it shows, nothing of
  // a customer outside the user's scope.
  assert.ok(SERVER_FNS.length >= 8 && ROUTES.length >= 13, `${SERVER_FNS} / ${ROUTES}`);
  assert.ok(SERVER_FNS.every((f) => PARAMS[f]), `every server function's parameters were read: ${JSON.stringify(PARAMS)}`);
  assert.ok(PARAMS.dashboard.includes('customer') && PARAMS.appliances.includes('customer'), JSON.stringify(PARAMS));
  for (const [who, user] of Object.entries(users)) {
    const v = user.visitor;
    const bodies = [];
    for (const route of ROUTES.filter((r) => !r.includes(':') || ownOnly(r))) {
      const page = await v.get(fill(route, 'A'));
      bodies.push([`page ${route}`, page.html]);
    }
    for (const fn of SERVER_FNS) {
      const res = await v.serverFn(fn);
      bodies.push([`server fn ${fn}`, await res.text()]);
    }
    for (const [what, body] of bodies) {
      for (const other of CUSTOMERS.filter((o) => !VISIBLE[who].includes(o))) {
        cells += 1;
        assert.ok(!body.includes(devices[other]) && !body.includes(names[other]), `${who} → ${what}: nothing of ${other}`);
      }
    }
  }

  // The same questions without a session: nothing.
  const stranger = new Visitor(stack.url);
  for (const route of ROUTES.filter((r) => r !== '/login')) {
    cells += 1;
    const page = await stranger.get(fill(route, 'A'));
    assert.equal(page.location, '/login', `stranger → ${route}`);
  }
  for (const fn of SERVER_FNS.filter((f) => f !== 'page_state')) {
    cells += 1;
    const res = await stranger.serverFn(fn);
    assert.equal(res.status, 401, `stranger → server fn ${fn}`);
  }
  for (const c of CUSTOMERS) {
    for (const route of ROUTES.filter((r) => r.includes(':'))) {
      cells += 1;
      assert.equal((await stranger.get(fill(route, c))).location, '/login', `stranger → ${route} of ${c}`);
    }
    for (const fn of SERVER_FNS.filter((f) => PARAMS[f]?.includes('customer'))) {
      cells += 1;
      const args = Object.fromEntries(PARAMS[fn].filter((a) => objectOf[a]).map((a) => [a, objectOf[a](c)]));
      assert.equal((await stranger.serverFn(fn, args)).status, 401, `stranger → server fn ${fn} of ${c}`);
    }
  }

  // The scoped API: reseller tokens reach their own customers only.
  const accountOf = { A: users.adminA.accountId, B: users.adminB.accountId };
  for (const [who, t] of Object.entries(tokens)) {
    for (const c of CUSTOMERS) {
      const may = VISIBLE[who].includes(c);
      const device = await api(stack, 'POST', `/api/v1/admin/customers/${ids[c]}/devices`, { device_id: devices[c], name: `utm-${c}` }, t);
      const account = await api(stack, 'POST', `/api/v1/admin/customers/${ids[c]}/accounts`, { email: `x-${who}-${c}@example.jp` }, t);
      cells += 2;
      assert.equal(device.status, may ? 201 : 404, `${who} token → devices of ${c}`);
      assert.equal(account.status, may ? 201 : 404, `${who} token → accounts of ${c}`);
      if (accountOf[c]) {
        const reset = await api(stack, 'POST', `/api/v1/admin/accounts/${accountOf[c]}/reset-second-factor`, undefined, t);
        cells += 1;
        assert.equal(reset.status, may ? 200 : 404, `${who} token → reset an account of ${c}`);
      }
    }
  }
  // A reseller's staff accounts: their own reseller's token may manage them, the other's not.
  for (const [who, t, target, may] of [
    ['staffR1', tokens.staffR1, users.staffR2.accountId, false],
    ['staffR2', tokens.staffR2, users.staffR2.accountId, true],
    ['staffR1', tokens.staffR1, users.operator.accountId, false],
  ]) {
    cells += 1;
    const r = await api(stack, 'POST', `/api/v1/admin/accounts/${target}/reset-second-factor`, undefined, t);
    assert.equal(r.status, may ? 200 : 404, `${who} token → reset ${target}`);
  }
  // Operator-only endpoints refuse reseller tokens (403), and a reseller signs customers
  // up only for itself.
  for (const [method, path, body] of [
    ['GET', '/api/v1/admin/audit'],
    ['POST', '/api/v1/admin/tokens', { scope: 'reseller', reseller_id: R1, name: 'x' }],
    ['POST', '/api/v1/admin/resellers', { name: 'x' }],
    ['POST', '/api/v1/admin/operator/accounts', { email: 'x@example.jp' }],
    ['POST', '/api/v1/admin/customers', { name: 'x', reseller_id: R2, service_start: '2026-11-01', alert_recipients: [] }],
  ]) {
    cells += 1;
    const r = await api(stack, method, path, body, tokens.staffR1);
    assert.equal(r.status, 403, `reseller token → ${method} ${path}`);
    assert.equal(r.body.error.code, 'forbidden');
  }
  const own = await api(stack, 'POST', '/api/v1/admin/customers', { name: '株式会社ジブン', service_start: '2026-11-01', alert_recipients: [] }, tokens.staffR1);
  assert.equal(own.status, 201);
  const [row] = stack.sql(`SELECT reseller_id FROM customers WHERE id = '${own.body.customer_id}'`);
  assert.equal(row.reseller_id, R1, "a reseller's new customer is its own");
  // A revoked token stops at once.
  const tokenId = (await api(stack, 'GET', '/api/v1/admin/audit?limit=500')).body.entries
    .find((e) => e.event === 'token.issued' && e.detail.includes('R2 CRM')).detail.split(' ')[0];
  assert.equal((await api(stack, 'DELETE', `/api/v1/admin/tokens/${tokenId}`)).status, 204);
  assert.equal((await api(stack, 'POST', `/api/v1/admin/customers/${ids.B}/devices`, { device_id: devices.B, name: 'utm-B' }, tokens.staffR2)).status, 401);

  console.log(`isolation matrix: ${cells} checks (${Object.keys(users).length} portal users + anonymous × ${CUSTOMERS.length} customers × ${ROUTES.length} routes and ${SERVER_FNS.length} server functions; ${Object.keys(tokens).length} API tokens)`);
});
