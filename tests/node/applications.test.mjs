// npm's `telnyx` SDK on Call Control and TeXML applications and the connections' count, against a
// real `ovp serve`. Run by tests/e2e/test_node_sdk.py, with the environment described in
// outbound_voice_profiles.test.mjs.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';

import Telnyx, { NotFoundError, UnprocessableEntityError } from 'telnyx';

const BASE_URL = process.env.OVP_BASE_URL;
const API_KEY = process.env.OVP_API_KEY;
assert.ok(BASE_URL && API_KEY, 'run these tests through tests/e2e/test_node_sdk.py');

/** A client on an account of this file's own: only `baseURL` differs from a user's client. */
const client = new Telnyx({ apiKey: `${API_KEY}-applications-${randomUUID()}`, baseURL: BASE_URL, maxRetries: 0 });

async function all(page) {
  const found = [];
  for await (const each of page) found.push(each);
  return found;
}

describe('applications', () => {
  test('Call Control applications: every operation, on a profile', async () => {
    const profile = (await client.outboundVoiceProfiles.create({ name: 'for an application' })).data;
    const app = (await client.callControlApplications.create({
      application_name: 'ivr', webhook_event_url: 'https://example.com/hooks',
      outbound: { outbound_voice_profile_id: profile.id },
    })).data;
    assert.equal(app.record_type, 'call_control_application');
    assert.equal(app.first_command_timeout_secs, 30);
    const found = await all(client.callControlApplications.list({ filter: { application_name: { contains: 'ivr' } } }));
    assert.deepEqual(found.map((each) => each.id), [app.id]);
    const updated = (await client.callControlApplications.update(app.id, {
      application_name: 'desk', webhook_event_url: 'https://example.com/new',
    })).data;
    assert.equal(updated.application_name, 'desk');
    assert.equal((await client.callControlApplications.retrieve(app.id)).data.webhook_event_url, 'https://example.com/new');
    assert.equal((await client.outboundVoiceProfiles.retrieve(profile.id)).data.connections_count, 1);
    await assert.rejects(client.callControlApplications.create({ application_name: 'x', webhook_event_url: 'nowhere' }),
      UnprocessableEntityError);
    await client.callControlApplications.delete(app.id);
    await assert.rejects(client.callControlApplications.retrieve(app.id), NotFoundError);
  });

  test('TeXML applications: every operation, and the count of connections by kind', async () => {
    const app = (await client.texmlApplications.create({
      friendly_name: 'voice app', voice_url: 'https://example.com/v.xml',
    })).data;
    assert.equal(app.voice_method, 'post');
    const found = await all(client.texmlApplications.list({ filter: { friendly_name: 'voice' }, sort: 'friendly_name' }));
    assert.deepEqual(found.map((each) => each.id), [app.id]);
    const updated = (await client.texmlApplications.update(app.id, {
      friendly_name: 'renamed', voice_url: 'https://example.com/w.xml',
    })).data;
    assert.equal(updated.friendly_name, 'renamed');
    assert.equal((await client.texmlApplications.retrieve(app.id)).data.voice_url, 'https://example.com/w.xml');
    const count = (await client.connections.retrieveCount()).data;
    assert.equal(count.counts.texml_applications, 1);
    assert.equal(count.counts.fax_connections, 0);
    const listed = await all(client.connections.list());
    assert.ok(listed.some((each) => each.id === app.id && each.record_type === 'texml_application'));
    await client.texmlApplications.delete(app.id);
    await assert.rejects(client.texmlApplications.retrieve(app.id), NotFoundError);
  });
});
