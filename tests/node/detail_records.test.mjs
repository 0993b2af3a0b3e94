// npm's `telnyx` SDK on `client.detailRecords`: the calls ovp decided, once over, and its refusals as
// sip-trunking detail records, against a real `ovp serve`. Run by tests/e2e/test_node_sdk.py, with the
// environment described in outbound_voice_profiles.test.mjs, on an account of its own (account.mjs). The
// server is shared with the other files, which run at the same time, so its clock is left alone: times
// are read from the records themselves.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { BadRequestError, UnprocessableEntityError } from 'telnyx';

import { account, every } from './account.mjs';

const { client, ovp } = account('detail-records');
const SIP = { record_type: 'sip-trunking' };

/** A detail record's id: the call's leg id, a UUID holding the id of ovp's record in its last 64 bits. */
function leg(record) {
  return `00000000-0000-0000-${BigInt(record.id).toString(16).padStart(16, '0').replace(/^(.{4})/, '$1-')}`;
}

function ids(query) {
  return every(client.detailRecords.list(query), (record) => {
    assert.equal(record.record_type, 'sip-trunking');
    return record.id;
  });
}

describe('detail records', () => {
  test('finished calls and refusals, filtered, sorted and paged', async () => {
    await ovp('PUT', '/ovp/rates', 'prefix,rate\n1,0.0100\n', 'text/csv');
    const profile = (await client.outboundVoiceProfiles.create({ name: 'office' })).data;
    const ask = (to) => ovp('POST', '/ovp/call_authorizations', {
      outbound_voice_profile_id: profile.id, to, from: '+12025550100',
    });
    const ended = await ask('+14155552671');
    await ovp('POST', `/ovp/call_authorizations/${ended.id}/actions/answer`);
    await ovp('POST', `/ovp/call_authorizations/${ended.id}/actions/end`, { duration_secs: 42 });
    const refused = await ask('+5511912345678');
    assert.equal(refused.code, 'D13');
    await ask('+14155552671'); // still ringing: no record yet

    const newestFirst = [leg(refused), leg(ended)];
    assert.deepEqual(await ids({ filter: SIP, 'page[size]': 1 }), newestFirst); // every page
    assert.deepEqual(await ids({ filter: SIP, sort: ['started_at'] }), [...newestFirst].reverse());

    const page = await client.detailRecords.list({ filter: { ...SIP, id: leg(ended) } });
    assert.deepEqual(page.meta, { page_number: 1, page_size: 20, total_pages: 1, total_results: 1 });
    const [record] = page.data;
    assert.equal(record.telnyx_session_id, leg(ended).replace(/^00000000-0000-0000/, '00000000-0000-0001'));
    assert.deepEqual(
      [record.cli, record.cld, record.call_sec, record.billed_sec, record.rate, record.cost, record.hangup_cause],
      ['+12025550100', '+14155552671', 42, 60, '0.0100', '0.010000', 'NORMAL_CLEARING'],
    );
    assert.equal(record.outbound_profile_id, profile.id);
    assert.deepEqual(await ids({ filter: { ...SIP, started_at: { gt: record.started_at } } }), [leg(refused)]);

    const [rejection] = (await client.detailRecords.list({ filter: { ...SIP, telnyx_error_code: 'D13' } })).data;
    assert.deepEqual(
      [rejection.id, rejection.hangup_cause, rejection.sip_invite_failure_status, rejection.cost],
      [leg(refused), 'CALL_REJECTED', '403', '0.000000'],
    );
    assert.deepEqual(await ids({ filter: { record_type: 'messaging' } }), []);
  });

  test('each bad parameter is the SDK\'s error', async () => {
    await assert.rejects(client.detailRecords.list(), UnprocessableEntityError);
    await assert.rejects(client.detailRecords.list({ filter: { ...SIP, direction: 'sideways' } }),
      UnprocessableEntityError);
    await assert.rejects(client.detailRecords.list({ filter: { ...SIP, created_at: { gte: '2026-03-01' } } }),
      (error) => error instanceof BadRequestError
        && error.error.errors[0].source.parameter === 'filter[created_at][gte]');
    await assert.rejects(client.detailRecords.list({ filter: SIP, sort: ['-created_at'] }), BadRequestError);
  });
});
