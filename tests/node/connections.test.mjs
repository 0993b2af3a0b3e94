// npm's `telnyx` SDK on `client.connections` (every kind of connection, and each one's active calls),
// against a real `ovp serve`. Run by tests/e2e/test_node_sdk.py, with the environment described in
// outbound_voice_profiles.test.mjs, on an account of its own (account.mjs).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { NotFoundError } from 'telnyx';

import { account, every } from './account.mjs';

const { client, ovp } = account('all-connections');

function activeCallIds(connectionId, query = {}) {
  return every(client.connections.listActiveCalls(connectionId, query), (call) => {
    assert.equal(call.record_type, 'call');
    return call.call_control_id;
  });
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
      calls.push(`v3:${allowed.id}`); // its call_control_id, which names it in ovp's paths too
    }
    assert.deepEqual(await activeCallIds(used.id, { page_size: 2 }), calls);
    await ovp('POST', `/ovp/call_authorizations/${calls[0]}/actions/end`, { duration_secs: 5 });
    assert.deepEqual(await activeCallIds(used.id), calls.slice(1));
  });
});
