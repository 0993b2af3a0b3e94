// An account of a test file's own on the open-mode server that tests/e2e/test_node_sdk.py starts (see
// outbound_voice_profiles.test.mjs): npm's `telnyx` client on it, only `baseURL` differing from a
// user's client, and ovp's own endpoints (rates, call authorizations), which the SDK does not know,
// called with fetch. Not a test file itself: `node --test` runs only files named *.test.mjs.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import Telnyx from 'telnyx';

const BASE_URL = process.env.OVP_BASE_URL;
const API_KEY = process.env.OVP_API_KEY;
assert.ok(BASE_URL && API_KEY, 'run these tests through tests/e2e/test_node_sdk.py');

/** A new account named after `name`: its SDK client, and `ovp(method, path, body)` for ovp's own endpoints. */
export function account(name) {
  const apiKey = `${API_KEY}-${name}-${randomUUID()}`;
  const origin = new URL(BASE_URL).origin;
  async function ovp(method, path, body, contentType = 'application/json') {
    const response = await fetch(`${origin}${path}`, {
      method,
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()).data;
  }
  return { client: new Telnyx({ apiKey, baseURL: BASE_URL, maxRetries: 0 }), ovp };
}

/** `pick` of every item of an SDK list, through all its pages. */
export async function every(list, pick) {
  const found = [];
  for await (const item of list) found.push(pick(item));
  return found;
}
