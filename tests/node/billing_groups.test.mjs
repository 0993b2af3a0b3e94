// npm's `telnyx` SDK on billing groups, against a real `ovp serve`. Run by tests/e2e/test_node_sdk.py,
// with the environment described in outbound_voice_profiles.test.mjs.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';

import Telnyx, { NotFoundError, UnprocessableEntityError } from 'telnyx';

const BASE_URL = process.env.OVP_BASE_URL;
const API_KEY = process.env.OVP_API_KEY;
assert.ok(BASE_URL && API_KEY, 'run these tests through tests/e2e/test_node_sdk.py');

/** A client on an account of this file's own: only `baseURL` differs from a user's client. */
const client = new Telnyx({ apiKey: `${API_KEY}-billing-groups-${randomUUID()}`, baseURL: BASE_URL, maxRetries: 0 });

describe('billing groups', () => {
  test('create, list, retrieve, update and delete; a profile names one', async () => {
    const created = (await client.billingGroups.create({ name: 'West coast' })).data;
    assert.equal(created.record_type, 'billing_group');
    assert.equal(created.deleted_at, null);
    const profile = (await client.outboundVoiceProfiles.create({ name: 'office', billing_group_id: created.id })).data;
    assert.equal(profile.billing_group_id, created.id);

    const other = (await client.billingGroups.create({ name: 'East coast' })).data;
    const listed = [];
    for await (const group of client.billingGroups.list({ page_size: 1 })) listed.push(group.id);
    assert.deepEqual(listed, [other.id, created.id]);

    assert.equal((await client.billingGroups.update(created.id, { name: 'Pacific' })).data.name, 'Pacific');
    assert.equal((await client.billingGroups.retrieve(created.id)).data.name, 'Pacific');
    await assert.rejects(client.billingGroups.update(created.id, { name: 'x'.repeat(256) }), UnprocessableEntityError);
    const deleted = (await client.billingGroups.delete(created.id)).data;
    assert.ok(deleted.deleted_at);
    await assert.rejects(client.billingGroups.retrieve(created.id), NotFoundError);
  });
});
