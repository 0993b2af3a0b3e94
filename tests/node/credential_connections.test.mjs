// npm's `telnyx` SDK on credential connections and the profiles they use, against a real `ovp serve`.
// Run by tests/e2e/test_node_sdk.py, with the environment described in outbound_voice_profiles.test.mjs.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';

import Telnyx, { UnprocessableEntityError } from 'telnyx';

const BASE_URL = process.env.OVP_BASE_URL;
const API_KEY = process.env.OVP_API_KEY;
assert.ok(BASE_URL && API_KEY, 'run these tests through tests/e2e/test_node_sdk.py');

/** A client on an account of this file's own: only `baseURL` differs from a user's client. */
const client = new Telnyx({ apiKey: `${API_KEY}-connections-${randomUUID()}`, baseURL: BASE_URL, maxRetries: 0 });

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
});
