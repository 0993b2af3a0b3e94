// npm's `telnyx` SDK on FQDN connections, their authentication and their FQDNs, against a real `ovp serve`. Run by
// tests/e2e/test_node_sdk.py, with the environment described in outbound_voice_profiles.test.mjs.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';

import Telnyx, { NotFoundError, UnprocessableEntityError } from 'telnyx';

const BASE_URL = process.env.OVP_BASE_URL;
const API_KEY = process.env.OVP_API_KEY;
assert.ok(BASE_URL && API_KEY, 'run these tests through tests/e2e/test_node_sdk.py');

/** A client on an account of this file's own: only `baseURL` differs from a user's client. */
const client = new Telnyx({ apiKey: `${API_KEY}-fqdn-connections-${randomUUID()}`, baseURL: BASE_URL, maxRetries: 0 });

describe('FQDN connections', () => {
  test('every operation, their FQDNs, and the connections list by FQDN', async () => {
    const connection = (await client.fqdnConnections.create({
      connection_name: 'pbx', outbound: { tech_prefix: '1234' },
    })).data;
    assert.equal(connection.record_type, 'fqdn_connection');
    assert.equal(connection.outbound.tech_prefix, '1234');
    const fqdn = (await client.fqdns.create({
      connection_id: connection.id, fqdn: 'pbx.example.com', dns_record_type: 'a',
    })).data;
    assert.equal(fqdn.port, 5060);
    const found = [];
    for await (const each of client.connections.list({ filter: { fqdn: 'pbx.example.com' } })) found.push(each.id);
    assert.deepEqual(found, [connection.id]);
    const listed = [];
    for await (const each of client.fqdns.list({ filter: { connection_id: connection.id } })) listed.push(each.id);
    assert.deepEqual(listed, [fqdn.id]);
    assert.equal((await client.fqdns.update(fqdn.id, { port: 5070 })).data.port, 5070);
    assert.equal((await client.fqdns.retrieve(fqdn.id)).data.fqdn, 'pbx.example.com');
    assert.equal((await client.fqdnConnections.update(connection.id, { active: false })).data.active, false);
    assert.equal((await client.fqdnConnections.retrieve(connection.id)).data.connection_name, 'pbx');
    const all = [];
    for await (const each of client.fqdnConnections.list()) all.push(each.id);
    assert.deepEqual(all, [connection.id]);
    await client.fqdns.delete(fqdn.id);
    await client.fqdnConnections.delete(connection.id);
    await assert.rejects(client.fqdnConnections.retrieve(connection.id), NotFoundError);
  });

  test('the authentication is the connection\'s, read and changed both ways', async () => {
    const connection = (await client.fqdnConnections.create({
      connection_name: 'teams', microsoft_teams_sbc: true,
    })).data;
    const authentication = client.fqdnConnections.fqdnAuthentication;
    const patched = (await authentication.patchAll(connection.id, {
      user_name: 'teams0001', password: 's3cret-pass', fqdn_outbound_authentication: 'credential-authentication',
      ip_authentication_method: 'token', txt_ttl: 300, webhook_url: 'https://example.com/hooks',
    })).data;
    assert.equal(patched.record_type, 'fqdn_authentication');
    assert.equal(patched.connection_id, connection.id);
    assert.equal(patched.password, 's3cret-pass');
    const listed = (await authentication.list(connection.id)).data;
    assert.deepEqual(listed, { ...patched, password: '********' });
    assert.equal(listed.microsoft_teams_sbc, true);
    const fetched = (await client.fqdnConnections.retrieve(connection.id)).data;
    assert.deepEqual([fetched.user_name, fetched.password, fetched.webhook_event_url],
      ['teams0001', '********', 'https://example.com/hooks']);
    assert.equal(fetched.outbound.ip_authentication_method, 'credential-authentication');
    await client.fqdnConnections.update(connection.id, { webhook_event_url: 'https://example.org/hooks' });
    assert.equal((await authentication.list(connection.id)).data.webhook_url, 'https://example.org/hooks');
    await assert.rejects(authentication.patchAll(connection.id, { txt_ttl: -1 }), (error) => {
      assert.ok(error instanceof UnprocessableEntityError);
      assert.deepEqual(error.error.errors[0].source, { pointer: '/txt_ttl' });
      return true;
    });
    await client.fqdnConnections.delete(connection.id);
    await assert.rejects(authentication.list(connection.id), NotFoundError);
  });
});
