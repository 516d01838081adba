// The names the end-to-end tests assert on — the `?e=<code>` a form sends the visitor back
// with, and the events of the audit log — are the product's own: `domain::signin` exports
// its lists to vocabulary.json (checked by a domain test), and this test fails when a test
// here names a code or an event the product does not have (a typo, or a rename on one side).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

const here = new URL('./', import.meta.url);
const vocabulary = JSON.parse(readFileSync(new URL('vocabulary.json', here), 'utf8'));
const sources = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'vocabulary.test.mjs')
  .map((f) => [f, readFileSync(new URL(f, here), 'utf8')]);

/** Every `match[1]` of `pattern` in the tests, with where it is. */
function named(pattern) {
  const found = [];
  for (const [file, text] of sources) {
    for (const m of text.matchAll(pattern)) found.push({ name: m[1], file });
  }
  return found;
}

test('every form error code the tests expect is one the forms send', () => {
  const codes = named(/[?&]e=([a-z_]+)/g).filter(({ name }) => name !== 'x' && name !== 'submit');
  assert.ok(codes.length >= 10, `the tests name form codes (${codes.length} found)`);
  for (const { name, file } of codes) {
    assert.ok(vocabulary.form_errors.includes(name), `${file}: ?e=${name} is no FormError`);
  }
});

test('every audit event the tests look for is one the service writes', () => {
  const events = named(/'((?:signin|signout|password|second_factor|account|token)\.[a-z_]+)'/g);
  assert.ok(events.length >= 10, `the tests name audit events (${events.length} found)`);
  for (const { name, file } of events) {
    assert.ok(vocabulary.audit_events.includes(name), `${file}: '${name}' is no AuditEvent`);
  }
});

test('the second factors are the three the accounts table allows', () => {
  assert.deepEqual([...vocabulary.second_factors].sort(), ['none', 'sms', 'totp']);
});
