// npm's `telnyx` SDK on `client.connections` (every kind of connection, and each one's active calls),
// against a real `ovp serve`. Run by tests/e2e/test_node_sdk.py, with the environment described in
// outbound_voice_profiles.test.mjs. ovp's own endpoints (rates, call authorizations) are called with fetch.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';

import Telnyx, { NotFoundError } from 'telnyx';

const BASE_URL = process.env.OVP_BASE_URL;
const API_KEY = process.env.OVP_API_KEY;
assert.ok(BASE_URL && API_KEY, 'run these tests through tests/e2e/test_node_sdk.py');

const apiKey = `${API_KEY}-all-connections-${randomUUID()}`;
/** A client on an account of this file's own: only `baseURL` differs from a user's client. */
const client = new Telnyx({ apiKey, baseURL: BASE_URL, maxRetries: 0 });
const ORIGIN = new URL(BASE_URL).origin;

/** One of ovp's own endpoints, outside the SDK. */
async function ovp(method, path, body, contentType = 'application/json') {
  const response = await fetch(`${ORIGIN}${path}`, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()).data;
}

async function activeCallIds(connectionId, query = {}) {
  const ids = [];
  for await (const call of client.connections.listActiveCalls(connectionId, query)) {
    assert.equal(call.record_type, 'call');
    ids.push(call.call_control_id);
  }
  return ids;
}

describe('connections', () => {
  test('listed by profile, retrieved, and their active calls come and go', async () => {
    await ovp('PUT', '/ovp/rates', 'prefix,rate\n1,0.0100\n', 'text/csv');
    const profile = (await client.outboundVoiceProfiles.create({ name: 'office' })).data;
    const used = (await client.credentialConnections.create({
      connection_name: 'trunk-one', user_name: 'nodetrunk1', password: 'secret-pass-1',
      outbound: { outbound_voice_profile_id: profile.id },
    })).data;
    await client.credentialConnections.create({
      connection_name: 'trunk-two', user_name: 'nodetrunk2', password: 'secret-pass-2',
    });

    const listed = [];
    for await (const each of client.connections.list({ filter: { outbound_voice_profile_id: profile.id } })) {
      listed.push(each);
    }
    assert.deepEqual(listed.map((each) => each.id), [used.id]);
    assert.equal(listed[0].record_type, 'credential_connection');
    assert.equal(listed[0].outbound_voice_profile_id, profile.id);
    const retrieved = (await client.connections.retrieve(used.id)).data;
    assert.equal(retrieved.connection_name, 'trunk-one');
    await assert.rejects(client.connections.retrieve('1293384261075731499'), NotFoundError);

    assert.deepEqual(await activeCallIds(used.id), []);
    const calls = [];
    for (let i = 0; i < 3; i += 1) {
      const allowed = await ovp('POST', '/ovp/call_authorizations', {
        connection_id: used.id, to: '+14155552671', from: '+12025550100',
      });
      assert.equal(allowed.decision, 'allowed');
      calls.push(allowed.id);
    }
    assert.deepEqual(await activeCallIds(used.id, { page_size: 2 }), calls);
    await ovp('POST', `/ovp/call_authorizations/${calls[0]}/actions/end`, { duration_secs: 5 });
    assert.deepEqual(await activeCallIds(used.id), calls.slice(1));
  });
});
