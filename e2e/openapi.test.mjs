// docs/openapi.json, the machine-readable copy of api-v1, checked three ways: it is a sound
// OpenAPI 3.1 document, its schemas say what api-v1 says (the api-v1 example passes, broken
// bodies do not), and what the running Worker answers is documented there, status and body.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startStack, root } from './stack.mjs';
import { address, credentialsFromMail } from './identity.mjs';

const doc = JSON.parse(readFileSync(join(root, 'docs', 'openapi.json'), 'utf8'));
const DOC_ID = 'https://mimamori.invalid/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// The whole document goes into Ajv as one schema, so `$ref`s into components resolve as they
// are. Ajv is told about the OpenAPI keywords that are not JSON Schema (annotations only);
// strict mode then still refuses any other unknown keyword, e.g. a typo in a schema.
const ajv = new Ajv2020({ allErrors: true, strictTypes: true });
addFormats(ajv);
ajv.addVocabulary(['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks',
  'components', 'security', 'tags', 'externalDocs', 'discriminator', 'xml', 'example']);
ajv.addSchema(doc, DOC_ID);

/** `['paths', '/api/v1/health']` → `#/paths/~1api~1v1~1health`, URI-encoded. */
function pointer(parts) {
  return `#${parts.map((p) => `/${encodeURIComponent(String(p).replaceAll('~', '~0').replaceAll('/', '~1'))}`).join('')}`;
}

/** `#/components/responses/BadRequest` → `['components', 'responses', 'BadRequest']`. */
function refParts(ref) {
  assert.match(ref, /^#\//, `only local $refs are used: ${ref}`);
  return ref.slice(2).split('/').map((p) => decodeURIComponent(p).replaceAll('~1', '/').replaceAll('~0', '~'));
}

function at(parts) {
  return parts.reduce((node, part) => (node === undefined ? undefined : node[part]), doc);
}

/** Follows a `$ref` (responses, headers); returns the object and where it lives. */
function deref(parts) {
  const node = at(parts);
  return node?.$ref ? deref(refParts(node.$ref)) : { node, parts };
}

const validators = new Map();
/** A validator for the schema at `parts` of the document. */
function schemaAt(parts) {
  const ref = DOC_ID + pointer(parts);
  if (!validators.has(ref)) validators.set(ref, ajv.compile({ $ref: ref }));
  return validators.get(ref);
}

function assertValid(validate, value, what) {
  assert.ok(validate(value), `${what}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
}

/**
 * Asserts that `res` is an answer `method pathTemplate` documents: its status is listed, its
 * required headers are there, and its JSON body matches the documented schema. With
 * `expected`, the status must also be that one. Returns the body.
 */
async function conforms(res, method, pathTemplate, expected) {
  const m = method.toLowerCase();
  const op = doc.paths[pathTemplate]?.[m];
  assert.ok(op, `${method} ${pathTemplate} is in the document`);
  const status = String(res.status);
  const text = await res.text();
  if (expected !== undefined) {
    assert.equal(res.status, expected, `${method} ${pathTemplate} answered ${status} ${text}`);
  }
  assert.ok(status in op.responses,
    `${status} is documented for ${method} ${pathTemplate} (documented: ${Object.keys(op.responses).join(', ')}); body ${text}`);
  const { node: response, parts } = deref(['paths', pathTemplate, m, 'responses', status]);

  for (const name of Object.keys(response.headers ?? {})) {
    const { node: header, parts: headerParts } = deref([...parts, 'headers', name]);
    const value = res.headers.get(name);
    if (header.required) assert.notEqual(value, null, `${status} of ${method} ${pathTemplate} has ${name}`);
    if (value !== null && header.schema?.type === 'integer') {
      assert.match(value, /^\d+$/, `${name} is a whole number`);
      assertValid(schemaAt([...headerParts, 'schema']), Number(value), `${name} header`);
    }
  }

  const media = response.content?.['application/json'];
  if (!media) {
    assert.equal(text, '', `${status} of ${method} ${pathTemplate} has no documented body`);
    return undefined;
  }
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text);
  assertValid(schemaAt([...parts, 'content', 'application/json', 'schema']), body,
    `${status} body of ${method} ${pathTemplate}`);
  return body;
}

const requestSchema = (pathTemplate) =>
  schemaAt(['paths', pathTemplate, 'post', 'requestBody', 'content', 'application/json', 'schema']);

/** Every `$ref` in the document, with where it was found. */
function allRefs(node, path = '#', found = []) {
  if (Array.isArray(node)) node.forEach((v, i) => allRefs(v, `${path}/${i}`, found));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') found.push({ ref: v, at: path });
      // Examples are data, not document structure.
      else if (k !== 'examples' && k !== 'example') allRefs(v, `${path}/${k}`, found);
    }
  }
  return found;
}

function operations() {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ path, method: m, op: item[m] })));
}

// The example report of api-v1, as written there.
const API_V1_REPORT = {
  report_id: 'r-000123',
  sent_at: '2026-11-25T10:00:00+09:00',
  firmware: '1.4.2',
  definitions: '2026.11.25.01',
  clients: 37,
  events: [
    {
      type: 'threat',
      event_id: 'e-98812',
      occurred_at: '2026-11-25T09:59:31+09:00',
      function: 'ips',
      action: 'blocked',
      direction: 'outbound',
      threat: { name: 'ET MALWARE Win32/Emotet CnC Beacon', signature_id: '2030361',
        category: 'c2', vendor_severity: 'critical' },
      src: { ip: '192.168.1.23', port: 50122, mac: '3c:22:fb:01:02:03' },
      dst: { ip: '203.0.113.9', port: 443 },
      protocol: 'tcp',
      url: 'https://bad.example/gate.php',
      file: { name: 'invoice.doc.exe', sha256: '…' },
    },
    {
      type: 'usage',
      event_id: 'u-5521',
      period_start: '2026-11-25T09:00:00+09:00',
      period_end: '2026-11-25T10:00:00+09:00',
      kind: 'web_category',
      name: 'sns',
      hits: 412,
      bytes: 18233411,
      client: { ip: '192.168.1.23', mac: '3c:22:fb:01:02:03' },
    },
  ],
};

/** An RFC 3339 time in Asia/Tokyo, whole seconds. */
function jst(ms) {
  return new Date(ms + 9 * 3600_000).toISOString().replace(/\.\d+Z$/, '+09:00');
}

/** The api-v1 example with every time moved so that `sent_at` is now (events must be recent). */
function exampleReportNow(reportId = API_V1_REPORT.report_id) {
  const shift = Date.now() - 5_000 - Date.parse(API_V1_REPORT.sent_at);
  const moved = (t) => jst(Date.parse(t) + shift);
  const report = structuredClone(API_V1_REPORT);
  report.report_id = reportId;
  report.sent_at = moved(report.sent_at);
  for (const e of report.events) {
    for (const key of ['occurred_at', 'period_start', 'period_end']) if (e[key]) e[key] = moved(e[key]);
    e.event_id = `${reportId}.${e.event_id}`;
  }
  return report;
}

/** A copy of `value` with `change` applied to it. */
function altered(value, change) {
  const copy = structuredClone(value);
  change(copy);
  return copy;
}

let stack;
let deviceToken;
let customerId;

function call(method, path, body, { token, type = 'application/json' } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = type;
  if (token) headers.authorization = `Bearer ${token}`;
  const payload = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
  return fetch(`${stack.url}${path}`, { method, headers, body: payload });
}

const asOperator = (path, body, options = {}) =>
  call('POST', path, body, { token: stack.settings.OPERATOR_TOKEN, ...options });
const byOperator = (method, path) => call(method, path, undefined, { token: stack.settings.OPERATOR_TOKEN });

async function newCustomer() {
  const res = await asOperator('/api/v1/admin/customers',
    { name: '株式会社オープンAPI', service_start: '2026-12-01', alert_recipients: ['it@example.jp'] });
  return (await conforms(res, 'POST', '/api/v1/admin/customers', 201)).customer_id;
}

async function enrolledDevice(deviceId) {
  const code = await asOperator(`/api/v1/admin/customers/${customerId}/devices`, { device_id: deviceId, name: 'utm1' });
  const { enrollment_code } = await conforms(code, 'POST', '/api/v1/admin/customers/{customer_id}/devices', 201);
  const res = await call('POST', '/api/v1/device/enroll', { device_id: deviceId, enrollment_code });
  return (await conforms(res, 'POST', '/api/v1/device/enroll', 201)).device_token;
}

before(async () => {
  stack = await startStack();
  customerId = await newCustomer();
  deviceToken = await enrolledDevice('0c0000000001');
});
after(async () => { await stack?.stop(); });

const REPORTS = '/api/v1/device/reports';
const sendReport = (body, options = {}) => call('POST', REPORTS, body, { token: deviceToken, ...options });

const CUSTOMERS = '/api/v1/admin/customers';
const DEVICES = '/api/v1/admin/customers/{customer_id}/devices';
const ACCOUNTS = '/api/v1/admin/customers/{customer_id}/accounts';
const devicesOf = (customer) => `/api/v1/admin/customers/${customer}/devices`;
const accountsOf = (customer) => `/api/v1/admin/customers/${customer}/accounts`;
const RESELLERS = '/api/v1/admin/resellers';
const TOKENS = '/api/v1/admin/tokens';
const TOKEN = '/api/v1/admin/tokens/{token_id}';
const AUDIT = '/api/v1/admin/audit';
const RESET_PASSWORD = '/api/v1/admin/accounts/{account_id}/reset-password';
const RESET_SECOND_FACTOR = '/api/v1/admin/accounts/{account_id}/reset-second-factor';

/** A 254-character address, the longest there is. */
const LONGEST_EMAIL = `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(57)}.jp`;

// Bodies the account, reseller and token operations refuse, each with the `path` of the
// server's 400: the schemas must reject every one, and the server must answer every one so.
const BROKEN_BODIES = {
  [ACCOUNTS]: {
    'no email': [{}, '$.email'],
    'a null email': [{ email: null }, '$.email'],
    'an email that is a number': [{ email: 42 }, '$.email'],
    'an email without @': [{ email: 'admin.example.jp' }, '$.email'],
    'an email without a dot in the domain': [{ email: 'admin@localhost' }, '$.email'],
    'an email with a space': [{ email: 'ad min@example.jp' }, '$.email'],
    'a 255-character email': [{ email: `a${LONGEST_EMAIL}` }, '$.email'],
    'an array instead of an object': [[], '$'],
  },
  [RESELLERS]: {
    'no name': [{}, '$.name'],
    'an empty name': [{ name: '' }, '$.name'],
    'a 101-character name': [{ name: '販'.repeat(101) }, '$.name'],
    'a control character in the name': [{ name: '販売店\u0007' }, '$.name'],
    'a name that is a number': [{ name: 7 }, '$.name'],
  },
  [TOKENS]: {
    'no scope': [{ name: 'x' }, '$.scope'],
    'an unknown scope': [{ scope: 'root', name: 'x' }, '$.scope'],
    'an upper-case scope': [{ scope: 'Operator', name: 'x' }, '$.scope'],
    'a reseller token without its reseller': [{ scope: 'reseller', name: 'x' }, '$.reseller_id'],
    'a reseller token with a null reseller': [{ scope: 'reseller', reseller_id: null, name: 'x' }, '$.reseller_id'],
    'a reseller id that is no id': [{ scope: 'reseller', reseller_id: 'rsl 1', name: 'x' }, '$.reseller_id'],
    'an operator token with a reseller': [{ scope: 'operator', reseller_id: 'rsl_1', name: 'x' }, '$.reseller_id'],
    'no name': [{ scope: 'operator' }, '$.name'],
    'a 101-character name': [{ scope: 'operator', name: 'n'.repeat(101) }, '$.name'],
  },
};

// ---- the document itself

test('the document is OpenAPI 3.1.0, every operation has responses, and every $ref resolves', () => {
  assert.equal(doc.openapi, '3.1.0');
  assert.equal(doc.jsonSchemaDialect, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(typeof doc.info.title, 'string');
  assert.equal(typeof doc.info.version, 'string');
  assert.ok(operations().length > 0);
  for (const { path, method, op } of operations()) {
    const statuses = Object.keys(op.responses ?? {});
    assert.ok(statuses.length > 0, `${method} ${path} has responses`);
    for (const s of statuses) assert.match(s, /^([1-5]\d\d|[1-5]XX|default)$/, `${method} ${path} ${s}`);
    assert.ok(statuses.some((s) => s.startsWith('2')), `${method} ${path} has a success answer`);
    for (const requirement of op.security ?? doc.security ?? []) {
      for (const scheme of Object.keys(requirement)) {
        assert.ok(doc.components.securitySchemes[scheme], `${method} ${path} uses a declared scheme ${scheme}`);
      }
    }
    for (const param of (doc.paths[path].parameters ?? []).filter((p) => p.in === 'path')) {
      assert.ok(path.includes(`{${param.name}}`), `${path} has the path parameter ${param.name}`);
    }
  }
  const refs = allRefs(doc);
  assert.ok(refs.length > 0);
  for (const { ref, at: where } of refs) {
    assert.notEqual(at(refParts(ref)), undefined, `${ref} (at ${where}) resolves`);
  }
});

test('every schema is valid JSON Schema 2020-12 and compiles in strict mode', () => {
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    assert.ok(ajv.validateSchema(schema), `${name}: ${ajv.errorsText(ajv.errors)}`);
    schemaAt(['components', 'schemas', name]);
  }
});

test('every example in the document matches its schema', () => {
  let checked = 0;
  const visit = (node, parts) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node.examples) && parts.at(-2) === 'schemas') {
      node.examples.forEach((value, i) => {
        assertValid(schemaAt(parts), value, `examples[${i}] of ${pointer(parts)}`);
        checked++;
      });
    }
    if (node.schema && node.examples && !Array.isArray(node.examples)) {
      for (const [name, example] of Object.entries(node.examples)) {
        assertValid(schemaAt([...parts, 'schema']), example.value, `example ${name} at ${pointer(parts)}`);
        checked++;
      }
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'examples' && k !== 'schema') visit(v, [...parts, k]);
  };
  visit(doc, []);
  assert.ok(checked >= 5, `${checked} examples checked`);
});

test('the api-v1 example report is the documented example and matches the request schema', () => {
  const media = doc.paths[REPORTS].post.requestBody.content['application/json'];
  assert.deepEqual(media.examples['api-v1'].value, API_V1_REPORT);
  assertValid(requestSchema(REPORTS), API_V1_REPORT, 'the api-v1 example');
  assertValid(requestSchema(REPORTS), { report_id: 'hb-1', sent_at: '2026-11-25T10:00:00+09:00', events: [] },
    'a plain heartbeat');
  const withUnknown = altered(API_V1_REPORT, (r) => {
    r.uplink = 'fiber';
    r.events[0].confidence = 0.9;
    r.events[1].client.hostname = 'pc-23';
  });
  assertValid(requestSchema(REPORTS), withUnknown, 'unknown fields are allowed');
  const ipv6 = altered(API_V1_REPORT, (r) => { r.events[0].dst.ip = '2001:db8::9'; });
  assertValid(requestSchema(REPORTS), ipv6, 'an IPv6 address');
});

test('the report schema rejects what api-v1 forbids', () => {
  const broken = {
    'a 65-character report_id': (r) => { r.report_id = 'r'.repeat(65); },
    'an empty report_id': (r) => { r.report_id = ''; },
    'an event_id with a space': (r) => { r.events[0].event_id = 'e 1'; },
    'a missing sent_at': (r) => { delete r.sent_at; },
    'a time without an offset': (r) => { r.events[0].occurred_at = '2026-11-25T09:59:31'; },
    'an unknown function': (r) => { r.events[0].function = 'firewall'; },
    'an unknown action': (r) => { r.events[0].action = 'dropped'; },
    'an unknown direction': (r) => { r.events[0].direction = 'sideways'; },
    'an unknown vendor_severity': (r) => { r.events[0].threat.vendor_severity = 'severe'; },
    'an upper-case category': (r) => { r.events[0].threat.category = 'C2'; },
    'a 65-character category': (r) => { r.events[0].threat.category = 'c'.repeat(65); },
    'an empty threat name': (r) => { r.events[0].threat.name = ''; },
    'a 257-character threat name': (r) => { r.events[0].threat.name = 'n'.repeat(257); },
    'a control character in a string': (r) => { r.events[0].threat.name = 'Emotet\u0007'; },
    'a port over 65535': (r) => { r.events[0].src.port = 65536; },
    'a negative port': (r) => { r.events[0].dst.port = -1; },
    'a fractional port': (r) => { r.events[0].dst.port = 44.3; },
    'a MAC without colons': (r) => { r.events[0].src.mac = '3c22fb010203'; },
    'an IP that is no IP': (r) => { r.events[0].src.ip = '192.168.1.256'; },
    'a host name instead of an IP': (r) => { r.events[0].dst.ip = 'bad.example'; },
    'a 2049-character url': (r) => { r.events[0].url = `https://x.example/${'a'.repeat(2049 - 18)}`; },
    'a 256-character file name': (r) => { r.events[0].file.name = 'f'.repeat(256); },
    'an unknown event type': (r) => { r.events[1].type = 'dns'; },
    'an event without a type': (r) => { delete r.events[0].type; },
    'a threat event without its threat': (r) => { delete r.events[0].threat; },
    'an unknown usage kind': (r) => { r.events[1].kind = 'protocol'; },
    'negative hits': (r) => { r.events[1].hits = -1; },
    'bytes as a string': (r) => { r.events[1].bytes = '18233411'; },
    'events that are not an array': (r) => { r.events = {}; },
    '1001 events': (r) => { r.events = Array.from({ length: 1001 }, () => r.events[1]); },
  };
  const validate = requestSchema(REPORTS);
  for (const [what, change] of Object.entries(broken)) {
    assert.equal(validate(altered(API_V1_REPORT, change)), false, `${what} is rejected`);
  }
  assert.equal(validate(altered(API_V1_REPORT, (r) => { r.events[0].threat.category = 'c'.repeat(64); })), true,
    'a 64-character category is fine');
});

test('the operator and enroll schemas reject what api-v1 forbids', () => {
  const customers = requestSchema('/api/v1/admin/customers');
  const customer = { name: '株式会社サンプル', service_start: '2026-12-01', alert_recipients: ['a@example.jp'] };
  assertValid(customers, customer, 'a customer');
  assert.equal(customers({ ...customer, alert_recipients: ['a@x.jp', 'b@x.jp', 'c@x.jp', 'd@x.jp'] }), false,
    'four alert recipients are rejected');
  assert.equal(customers({ ...customer, service_start: '12/01/2026' }), false, 'a date that is no date is rejected');
  const devices = requestSchema('/api/v1/admin/customers/{customer_id}/devices');
  assert.equal(devices({ device_id: 'C0:25:A2:8B:0A:41', name: 'utm1' }), false, 'a device id that is no bare MAC');
  const enroll = requestSchema('/api/v1/device/enroll');
  assert.equal(enroll({ device_id: 'c025a28b0a41' }), false, 'an enroll body without a code');
});

test('the account, reseller and token schemas reject what the server refuses', () => {
  let rejected = 0;
  for (const [path, cases] of Object.entries(BROKEN_BODIES)) {
    const validate = requestSchema(path);
    for (const [what, [body]] of Object.entries(cases)) {
      assert.equal(validate(body), false, `${path}: ${what} is rejected`);
      rejected++;
    }
  }
  assert.ok(rejected >= 20, `${rejected} broken bodies`);
  assertValid(requestSchema(ACCOUNTS), { email: LONGEST_EMAIL }, 'a 254-character email');
  assertValid(requestSchema(RESELLERS), { name: '販'.repeat(100) }, 'a 100-character name');
  assertValid(requestSchema(TOKENS), { scope: 'operator', reseller_id: null, name: 'ops' },
    'an operator token with a null reseller_id');
  assertValid(requestSchema(TOKENS), { scope: 'reseller', reseller_id: 'rsl_demo', name: 'CRM', note: 'x' },
    'unknown fields are allowed');
});

// ---- the document against the running Worker

test('every operation in the document is a route the server knows', async () => {
  for (const { path, method } of operations()) {
    const url = path.replace(/\{[^}]+\}/g, 'cus_nobody');
    const res = await call(method.toUpperCase(), url, method === 'get' ? undefined : {});
    assert.notEqual(res.status, 405, `${method} ${path} is served`);
    assert.notEqual(res.status, 404, `${method} ${path} is a route (${await res.clone().text()})`);
    await conforms(res, method, path);
  }
});

test('health answers 200 as documented', async () => {
  const body = await conforms(await call('GET', '/api/v1/health'), 'GET', '/api/v1/health', 200);
  assert.equal(body.status, 'ok');
  assert.equal(body.config, 'ok', 'every required setting is usable');
});

test('health answers 503 as documented when the database has no schema', async () => {
  const bare = await startStack({ migrate: false });
  try {
    const body = await conforms(await fetch(`${bare.url}/api/v1/health`), 'GET', '/api/v1/health', 503);
    assert.equal(body.error.code, 'unavailable');
  } finally {
    await bare.stop();
  }
});

test('creating a customer answers 201, or 400, 401 and 415 as documented', async () => {
  const path = '/api/v1/admin/customers';
  const customer = { name: '株式会社サンプル', service_start: '2026-12-01', paid_from: '2027-01-01',
    alert_recipients: ['a@example.jp', 'b@example.jp', 'c@example.jp'] };
  const created = await conforms(await asOperator(path, customer), 'POST', path, 201);
  assert.ok(created.customer_id.length > 0);

  const four = { ...customer, alert_recipients: [...customer.alert_recipients, 'd@example.jp'] };
  const invalid = await conforms(await asOperator(path, four), 'POST', path, 400);
  assert.deepEqual([invalid.error.code, invalid.error.path], ['invalid_field', '$.alert_recipients']);

  const anonymous = await conforms(await call('POST', path, customer), 'POST', path, 401);
  assert.equal(anonymous.error.code, 'unauthenticated');

  const form = await conforms(await asOperator(path, 'name=x', { type: 'application/x-www-form-urlencoded' }), 'POST', path, 415);
  assert.equal(form.error.code, 'unsupported_media_type');
});

test('registering a device answers 201, or 404 for an unknown customer, as documented', async () => {
  const template = '/api/v1/admin/customers/{customer_id}/devices';
  const issued = await conforms(
    await asOperator(`/api/v1/admin/customers/${customerId}/devices`, { device_id: '0c0000000002', name: 'utm2' }),
    'POST', template, 201);
  assert.ok(issued.enrollment_code.length > 0);

  const unknown = await conforms(
    await asOperator('/api/v1/admin/customers/cus_nobody/devices', { device_id: '0c0000000003', name: 'x' }),
    'POST', template, 404);
  assert.equal(unknown.error.code, 'not_found');
});

test('enrolling answers 201 with a token, or 401 for a wrong code, as documented', async () => {
  const token = await enrolledDevice('0c0000000004');
  assert.ok(token.length > 0);
  const wrong = await conforms(
    await call('POST', '/api/v1/device/enroll', { device_id: '0c0000000004', enrollment_code: 'AAAA-BBBB-CCCC-DDDD-EEEE' }),
    'POST', '/api/v1/device/enroll', 401);
  assert.equal(wrong.error.code, 'unauthenticated');
});

test('every body the account, reseller and token schemas reject is 400 invalid_field with the same path', async () => {
  const concrete = { [ACCOUNTS]: accountsOf(customerId), [RESELLERS]: RESELLERS, [TOKENS]: TOKENS };
  for (const [template, cases] of Object.entries(BROKEN_BODIES)) {
    for (const [what, [body, path]] of Object.entries(cases)) {
      const { error } = await conforms(await asOperator(concrete[template], body), 'POST', template, 400);
      assert.deepEqual([error.code, error.path], ['invalid_field', path], `${template}: ${what}`);
    }
  }
  const longest = await conforms(await asOperator(accountsOf(customerId), { email: LONGEST_EMAIL }),
    'POST', ACCOUNTS, 201);
  assert.match(longest.account_id, /^acc_/);
});

test('issuing accounts answers 201 and mails the credentials, or 404, 415 and 503 as documented', async () => {
  const { reseller_id } = await conforms(await asOperator(RESELLERS, { name: '株式会社オープン販売' }), 'POST', RESELLERS, 201);
  const { customer_id } = await conforms(
    await asOperator(CUSTOMERS, { name: '株式会社オープン顧客', reseller_id, service_start: '2026-12-01', alert_recipients: [] }),
    'POST', CUSTOMERS, 201);

  for (const [template, path] of [
    [ACCOUNTS, accountsOf(customer_id)],
    ['/api/v1/admin/resellers/{reseller_id}/accounts', `/api/v1/admin/resellers/${reseller_id}/accounts`],
    ['/api/v1/admin/operator/accounts', '/api/v1/admin/operator/accounts'],
  ]) {
    const email = address('openapi');
    const issued = await conforms(await asOperator(path, { email }), 'POST', template, 201);
    assert.deepEqual(Object.keys(issued), ['account_id'], 'the answer holds the id only');
    const { password } = await credentialsFromMail(stack, email);
    assert.ok(password.length > 0, `the credentials went to ${email}`);
  }

  const unknown = await conforms(await asOperator(accountsOf('cus_nobody'), { email: address() }), 'POST', ACCOUNTS, 404);
  assert.equal(unknown.error.code, 'not_found');
  const form = await conforms(await asOperator(RESELLERS, 'name=x', { type: 'application/x-www-form-urlencoded' }),
    'POST', RESELLERS, 415);
  assert.equal(form.error.code, 'unsupported_media_type');

  // The mail provider refuses the credentials mail: no account, and the caller retries.
  const email = address('refused');
  await stack.sink.control({ fail_next: 1, status: 500 });
  const refused = await conforms(await asOperator(accountsOf(customer_id), { email }), 'POST', ACCOUNTS, 503);
  assert.equal(refused.error.code, 'unavailable');
  assert.deepEqual(stack.sql(`SELECT id FROM accounts WHERE email = '${email}'`), []);
});

test('API tokens are 201 when issued, 403 on operator-only operations for a reseller, 204 when revoked, then 401', async () => {
  const { reseller_id } = await conforms(await asOperator(RESELLERS, { name: '株式会社トークン販売' }), 'POST', RESELLERS, 201);
  const issued = await conforms(await asOperator(TOKENS, { scope: 'reseller', reseller_id, name: 'CRM' }),
    'POST', TOKENS, 201);
  assert.equal(issued.scope, 'reseller');
  const asReseller = (method, path, body) => call(method, path, body, { token: issued.token });
  const customer = (name, extra = {}) => ({ name, service_start: '2026-12-01', alert_recipients: [], ...extra });

  for (const [method, template, path, body] of [
    ['POST', RESELLERS, RESELLERS, { name: 'x' }],
    ['POST', TOKENS, TOKENS, { scope: 'operator', name: 'x' }],
    ['DELETE', TOKEN, `${TOKENS}/${issued.token_id}`],
    ['GET', AUDIT, AUDIT],
    ['POST', '/api/v1/admin/operator/accounts', '/api/v1/admin/operator/accounts', { email: address() }],
    ['POST', '/api/v1/admin/incidents/{incident_id}/investigation', '/api/v1/admin/incidents/1/investigation',
      { finding: '問題ありません。', by: '販売店' }],
    ['POST', CUSTOMERS, CUSTOMERS, customer('株式会社よそ', { reseller_id: 'rsl_someone_else' })],
  ]) {
    const forbidden = await conforms(await asReseller(method, path, body), method, template, 403);
    assert.equal(forbidden.error.code, 'forbidden', `${method} ${path}`);
  }
  const own = await conforms(await asReseller('POST', CUSTOMERS, customer('株式会社じぶん')), 'POST', CUSTOMERS, 201);
  await conforms(await asReseller('POST', devicesOf(own.customer_id), { device_id: '0c0000000010', name: 'utm' }),
    'POST', DEVICES, 201);
  const others = await conforms(
    await asReseller('POST', devicesOf(customerId), { device_id: '0c0000000011', name: 'utm' }), 'POST', DEVICES, 404);
  assert.equal(others.error.code, 'not_found', "another's customer is not there");

  const unknown = await conforms(await asOperator(TOKENS, { scope: 'reseller', reseller_id: 'rsl_nobody', name: 'x' }),
    'POST', TOKENS, 400);
  assert.deepEqual([unknown.error.code, unknown.error.path], ['invalid_field', '$.reseller_id']);

  await conforms(await byOperator('DELETE', `${TOKENS}/${issued.token_id}`), 'DELETE', TOKEN, 204);
  const again = await conforms(await byOperator('DELETE', `${TOKENS}/${issued.token_id}`), 'DELETE', TOKEN, 404);
  assert.equal(again.error.code, 'not_found');
  const revoked = await conforms(await asReseller('POST', CUSTOMERS, customer('株式会社おそい')), 'POST', CUSTOMERS, 401);
  assert.equal(revoked.error.code, 'unauthenticated');

  const operator = await conforms(await asOperator(TOKENS, { scope: 'operator', reseller_id: null, name: 'ops' }),
    'POST', TOKENS, 201);
  assert.equal(operator.scope, 'operator');
  await conforms(await call('GET', `${AUDIT}?limit=1`, undefined, { token: operator.token }), 'GET', AUDIT, 200);
});

test('resetting an account answers 200, or 404 for an unknown account, as documented', async () => {
  const email = address('reset');
  const { account_id } = await conforms(await asOperator(accountsOf(customerId), { email }), 'POST', ACCOUNTS, 201);
  const issuedMail = await credentialsFromMail(stack, email);
  for (const template of [RESET_SECOND_FACTOR, RESET_PASSWORD]) {
    const reset = await conforms(await asOperator(template.replace('{account_id}', account_id)), 'POST', template, 200);
    assert.deepEqual(reset, { account_id });
    const unknown = await conforms(await asOperator(template.replace('{account_id}', 'acc_0000000000000000')),
      'POST', template, 404);
    assert.equal(unknown.error.code, 'not_found');
  }
  const resetMail = await credentialsFromMail(stack, email);
  assert.equal(resetMail.loginId, issuedMail.loginId, 'the login id stays');
  assert.notEqual(resetMail.password, issuedMail.password, 'a new temporary password went out');
});

test('the audit log answers 200 with entries, newest first, as documented', async () => {
  const { entries } = await conforms(await byOperator('GET', `${AUDIT}?limit=1000`), 'GET', AUDIT, 200);
  const events = new Set(entries.map((e) => e.event));
  for (const event of ['token.used', 'token.issued', 'token.revoked', 'account.issued', 'account.password_reset',
    'account.second_factor_reset']) {
    assert.ok(events.has(event), `${event} is in the log`);
  }
  const times = entries.map((e) => Date.parse(e.at));
  assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');

  const { account_id } = entries.find((e) => e.event === 'account.issued');
  const one = await conforms(await byOperator('GET', `${AUDIT}?account_id=${account_id}`), 'GET', AUDIT, 200);
  assert.ok(one.entries.length > 0);
  assert.ok(one.entries.every((e) => e.account_id === account_id), 'only that account');
  const latest = await conforms(await byOperator('GET', `${AUDIT}?limit=1`), 'GET', AUDIT, 200);
  assert.equal(latest.entries.length, 1);
  assert.equal(latest.entries[0].event, 'token.used', 'this very request is the newest entry');
});

test('the api-v1 example report is 202, and sending it again is 202 with accepted 0', async () => {
  const report = exampleReportNow('r-openapi-1');
  assertValid(requestSchema(REPORTS), report, 'the shifted example');
  const counts = ({ report_id, accepted, duplicates }) => ({ report_id, accepted, duplicates });
  const first = await conforms(await sendReport(report), 'POST', REPORTS, 202);
  assert.deepEqual(counts(first), { report_id: 'r-openapi-1', accepted: 2, duplicates: 0 });
  const replay = await conforms(await sendReport(report), 'POST', REPORTS, 202);
  assert.deepEqual(counts(replay), { report_id: 'r-openapi-1', accepted: 0, duplicates: 2 });
});

test('a report that breaks a rule is 400 invalid_field with the path, and broken JSON is 400 invalid_json', async () => {
  const report = altered(exampleReportNow('r-openapi-2'), (r) => { r.events[0].src.port = 65536; });
  const invalid = await conforms(await sendReport(report), 'POST', REPORTS, 400);
  assert.deepEqual([invalid.error.code, invalid.error.path], ['invalid_field', '$.events[0].src.port']);

  const broken = await conforms(await sendReport('{"report_id": '), 'POST', REPORTS, 400);
  assert.equal(broken.error.code, 'invalid_json');
});

test('a report with a bad device token is 401', async () => {
  const body = await conforms(await sendReport(exampleReportNow('r-openapi-3'), { token: 'mmd_forged' }), 'POST', REPORTS, 401);
  assert.equal(body.error.code, 'unauthenticated');
});

test('a report with 1001 events is 413 payload_too_large', async () => {
  const report = exampleReportNow('r-openapi-4');
  const usage = report.events[1];
  report.events = Array.from({ length: 1001 }, (_, i) => ({ ...usage, event_id: `u-${i}` }));
  assert.ok(JSON.stringify(report).length < 1024 * 1024, 'the body itself is under 1 MiB');
  const body = await conforms(await sendReport(report), 'POST', REPORTS, 413);
  assert.equal(body.error.code, 'payload_too_large');
});

test('a report that is not application/json is 415', async () => {
  const body = await conforms(
    await sendReport(JSON.stringify(exampleReportNow('r-openapi-5')), { type: 'text/plain' }), 'POST', REPORTS, 415);
  assert.equal(body.error.code, 'unsupported_media_type');
});
