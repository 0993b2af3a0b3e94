// npm's `telnyx` SDK on IP connections and their IPs, and a profile used by one connection of each kind,
// against a real `ovp serve`. Run by tests/e2e/test_node_sdk.py, with the environment described in
// outbound_voice_profiles.test.mjs.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';

import Telnyx, { NotFoundError, UnprocessableEntityError } from 'telnyx';

const BASE_URL = process.env.OVP_BASE_URL;
const API_KEY = process.env.OVP_API_KEY;
assert.ok(BASE_URL && API_KEY, 'run these tests through tests/e2e/test_node_sdk.py');

/** A client on an account of this file's own: only `baseURL` differs from a user's client. */
const client = new Telnyx({ apiKey: `${API_KEY}-ip-connections-${randomUUID()}`, baseURL: BASE_URL, maxRetries: 0 });

describe('IP connections', () => {
  test('every operation, and a profile held by one connection of each kind', async () => {
    const profile = (await client.outboundVoiceProfiles.create({ name: 'trunks' })).data;
    const ip = (await client.ipConnections.create({
      connection_name: 'pbx', transport_protocol: 'TLS', outbound: { outbound_voice_profile_id: profile.id },
    })).data;
    assert.equal(ip.record_type, 'ip_connection');
    assert.equal(ip.transport_protocol, 'TLS');
    const credential = (await client.credentialConnections.create({
      connection_name: 'desk', user_name: 'nodedesk1', password: 'secret-pass-1',
      outbound: { outbound_voice_profile_id: profile.id },
    })).data;
    const named = (await client.fqdnConnections.create({
      connection_name: 'by name', outbound: { outbound_voice_profile_id: profile.id },
    })).data;
    assert.equal((await client.outboundVoiceProfiles.retrieve(profile.id)).data.connections_count, 3);
    await assert.rejects(client.outboundVoiceProfiles.delete(profile.id), UnprocessableEntityError);

    const listed = [];
    for await (const each of client.ipConnections.list()) listed.push(each.id);
    assert.deepEqual(listed, [ip.id]);
    assert.equal((await client.ipConnections.update(ip.id, { encrypted_media: 'SRTP' })).data.encrypted_media, 'SRTP');
    assert.equal((await client.ipConnections.retrieve(ip.id)).data.connection_name, 'pbx');

    const address = (await client.ips.create({ ip_address: '192.0.2.1', connection_id: ip.id })).data;
    assert.equal(address.record_type, 'ip');
    assert.equal(address.port, 5060);
    const ips = [];
    for await (const each of client.ips.list({ filter: { connection_id: ip.id } })) ips.push(each.id);
    assert.deepEqual(ips, [address.id]);
    assert.equal((await client.ips.update(address.id, { ip_address: '192.0.2.2' })).data.ip_address, '192.0.2.2');
    assert.equal((await client.ips.retrieve(address.id)).data.connection_id, ip.id);
    const spare = (await client.ips.create({ ip_address: '198.51.100.7', port: 5080 })).data;
    assert.equal((await client.ips.delete(spare.id)).data.id, spare.id);
    await assert.rejects(client.ips.retrieve(spare.id), NotFoundError);

    await client.ipConnections.delete(ip.id);
    await assert.rejects(client.ips.retrieve(address.id), NotFoundError); // the connection's IPs went with it
    await client.credentialConnections.delete(credential.id);
    await client.fqdnConnections.delete(named.id);
    await assert.rejects(client.ipConnections.retrieve(ip.id), NotFoundError);
    assert.equal((await client.outboundVoiceProfiles.delete(profile.id)).data.id, profile.id);
  });
});
