// npm's `telnyx` SDK on credential connections, the profiles they use and their registration status,
// against a real `ovp serve`. Run by tests/e2e/test_node_sdk.py, with the environment described in
// outbound_voice_profiles.test.mjs. What a switch tells ovp of a REGISTER is sent with fetch.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';

import Telnyx, { NotFoundError, UnprocessableEntityError } from 'telnyx';

const BASE_URL = process.env.OVP_BASE_URL;
const API_KEY = process.env.OVP_API_KEY;
assert.ok(BASE_URL && API_KEY, 'run these tests through tests/e2e/test_node_sdk.py');

const apiKey = `${API_KEY}-connections-${randomUUID()}`;
/** A client on an account of this file's own: only `baseURL` differs from a user's client. */
const client = new Telnyx({ apiKey, baseURL: BASE_URL, maxRetries: 0 });

/** What a switch tells ovp when it accepted a REGISTER of `user_name` (expires 0: the phone left). */
async function registered(user_name, expires) {
  const response = await fetch(`${new URL(BASE_URL).origin}/ovp/sip_registrations`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      user_name, expires, contact: 'sip:desk@192.0.2.10:5062', ip_address: '192.0.2.10', port: 5062,
      transport: 'UDP', user_agent: 'node phone',
    }),
  });
  assert.equal(response.status, 200, await response.clone().text());
}

describe('credential connections', () => {
  test('a connection uses a profile: counted, listed by profile, and the profile cannot be deleted', async () => {
    const profile = (await client.outboundVoiceProfiles.create({ name: 'office' })).data;
    const created = await client.credentialConnections.create({
      connection_name: 'trunk-one',
      user_name: 'trunkuser1',
      password: 'secret-pass-1',
      outbound: { outbound_voice_profile_id: profile.id },
    });
    const connection = created.data;
    assert.equal(connection.record_type, 'credential_connection');
    assert.equal(connection.outbound.outbound_voice_profile_id, profile.id);
    await client.credentialConnections.create({
      connection_name: 'trunk-two', user_name: 'trunkuser2', password: 'secret-pass-2',
    });

    const listed = [];
    for await (const each of client.credentialConnections.list({ filter: { outbound_voice_profile_id: profile.id } })) {
      listed.push(each.id);
    }
    assert.deepEqual(listed, [connection.id]);
    assert.equal((await client.outboundVoiceProfiles.retrieve(profile.id)).data.connections_count, 1);

    let refused;
    try {
      await client.outboundVoiceProfiles.delete(profile.id);
    } catch (error) {
      refused = error;
    }
    assert.ok(refused instanceof UnprocessableEntityError, `expected a 422, got ${refused}`);
    assert.equal(refused.error.errors[0].code, '10021');

    await client.credentialConnections.delete(connection.id);
    assert.equal((await client.outboundVoiceProfiles.retrieve(profile.id)).data.connections_count, 0);
    assert.equal((await client.outboundVoiceProfiles.delete(profile.id)).data.id, profile.id);
  });

  test('the registration status follows what the switch reported', async () => {
    const connection = (await client.credentialConnections.create({
      connection_name: 'desk phone', user_name: 'deskphone1', password: 'secret-pass-3',
    })).data;
    const check = async () => (await client.credentialConnections.actions.checkRegistrationStatus(connection.id)).data;
    assert.deepEqual(await check(), {
      record_type: 'registration_status', status: 'Not Registered', sip_username: 'deskphone1', ip_address: null,
      port: null, transport: null, user_agent: null, last_registration: null,
    });
    await registered('DeskPhone1', 3600);
    const now = await check();
    assert.equal(now.status, 'Registered');
    assert.deepEqual([now.ip_address, now.port, now.transport, now.user_agent], ['192.0.2.10', 5062, 'UDP', 'node phone']);
    assert.match(now.last_registration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    await registered('deskphone1', 0);
    assert.equal((await check()).status, 'Not Registered');

    await client.credentialConnections.delete(connection.id);
    await assert.rejects(client.credentialConnections.actions.checkRegistrationStatus(connection.id), NotFoundError);
  });
});
