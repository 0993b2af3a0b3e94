// npm's `telnyx` SDK against a real `ovp serve`, exactly as a user would drive it: only `baseURL` changes.
//
// Run by tests/e2e/test_node_sdk.py, which starts the servers and sets:
//   OVP_BASE_URL       an open-mode server, such as http://127.0.0.1:8000/v2 (any bearer token is an account)
//   OVP_API_KEY        a token of this run's own there (each derived token `${OVP_API_KEY}-...` is another account)
//   OVP_KEYS_BASE_URL  a keys-mode server with no keys at all, where every key is unknown
// By hand: `cd tests/node && npm ci && OVP_BASE_URL=... OVP_API_KEY=... OVP_KEYS_BASE_URL=... node --test`.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import Telnyx, {
  APIError,
  AuthenticationError,
  NotFoundError,
  UnprocessableEntityError,
} from 'telnyx';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests through tests/e2e/test_node_sdk.py (see this file's header)`);
  }
  return value;
}

const BASE_URL = required('OVP_BASE_URL');
const API_KEY = required('OVP_API_KEY');
const KEYS_BASE_URL = required('OVP_KEYS_BASE_URL');

const HERE = dirname(fileURLToPath(import.meta.url));
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UNKNOWN_ID = '1293384261075731499'; // the id in Telnyx's own examples; never one of ours
const DEFAULT_CALL_RECORDING = {
  call_recording_type: 'none',
  call_recording_caller_phone_numbers: [],
  call_recording_channels: 'single',
  call_recording_format: 'wav',
};
const RICH_FIELDS = {
  tags: ['office-profile'],
  concurrent_call_limit: 10,
  enabled: true,
  whitelisted_destinations: ['US', 'BR', 'AU'],
  max_destination_rate: 10,
  daily_spend_limit: '100.00',
  daily_spend_limit_enabled: true,
  call_recording: {
    call_recording_type: 'by_caller_phone_number',
    call_recording_caller_phone_numbers: ['+19705555098'],
    call_recording_channels: 'dual',
    call_recording_format: 'mp3',
  },
  billing_group_id: '6a09cdc3-8948-47f0-aa62-74ac943d6c58',
  calling_window: { start_time: '08:00:00.00Z', end_time: '20:00:00.00Z', calls_per_cld: 5 },
};

/** The client as a user makes it: the documented constructor, with `baseURL` pointed at ovp. */
function telnyx({ apiKey = API_KEY, baseURL = BASE_URL, ...options } = {}) {
  return new Telnyx({ apiKey, baseURL, maxRetries: 0, timeout: 10_000, ...options });
}

/** A client on an account nobody else in this run uses (in open mode every token is its own account). */
function ownAccount(label, options = {}) {
  return telnyx({ apiKey: `${API_KEY}-${label}`, ...options });
}

const client = telnyx();

function isNumericId(value) {
  return typeof value === 'string' && /^[1-9]\d*$/.test(value) && BigInt(value) < 2n ** 63n;
}

/** Runs `call`, which must fail with `ErrorClass`; returns the error after checking Telnyx's envelope on it. */
async function rejected(call, ErrorClass, status) {
  let caught;
  try {
    await call();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected ${ErrorClass.name}, but the call succeeded`);
  assert.ok(caught instanceof ErrorClass, `expected ${ErrorClass.name}, got ${caught?.constructor?.name}: ${caught}`);
  assert.ok(caught instanceof APIError);
  assert.equal(caught.status, status);
  assert.match(caught.headers.get('content-type'), /^application\/json/);
  // The SDK hands over the parsed JSON body as `error`: Telnyx's envelope, every code a string.
  assert.ok(Array.isArray(caught.error?.errors) && caught.error.errors.length > 0, JSON.stringify(caught.error));
  for (const problem of caught.error.errors) {
    assert.equal(typeof problem.code, 'string');
    assert.equal(typeof problem.title, 'string');
    assert.equal(problem.meta.url, `https://developers.telnyx.com/docs/overview/errors/${problem.code}`);
  }
  assert.ok(caught.message.startsWith(`${status} `), caught.message);
  return caught;
}

async function createProfile(fields, on = client) {
  const created = await on.outboundVoiceProfiles.create(fields);
  assert.ok(created.data, 'create answered no data');
  return created.data;
}

function without(profile, ...keys) {
  const copy = { ...profile };
  for (const key of keys) delete copy[key];
  return copy;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

// 1. Every operation ------------------------------------------------------------------------------------

describe('operations', () => {
  test('create answers the whole profile with Telnyx defaults', async () => {
    const profile = await createProfile({ name: 'Head office' });
    assert.ok(isNumericId(profile.id), `id ${profile.id} is not a numeric string`);
    assert.equal(profile.record_type, 'outbound_voice_profile');
    assert.equal(profile.name, 'Head office');
    assert.equal(profile.traffic_type, 'conversational');
    assert.equal(profile.service_plan, 'global');
    assert.equal(profile.usage_payment_method, 'rate-deck');
    assert.equal(profile.enabled, true);
    assert.deepEqual(profile.whitelisted_destinations, ['US', 'CA']);
    assert.equal(profile.connections_count, 0);
    assert.equal(profile.concurrent_call_limit, null);
    assert.equal(profile.daily_spend_limit_enabled, false);
    assert.deepEqual(profile.call_recording, DEFAULT_CALL_RECORDING);
    assert.deepEqual(profile.tags, []);
    assert.equal(profile.billing_group_id, null);
    assert.match(profile.created_at, TIMESTAMP);
    assert.equal(profile.updated_at, profile.created_at);
  });

  test('create keeps every field it is given, and retrieve answers the same document', async () => {
    const profile = await createProfile({ name: 'office-draft', ...RICH_FIELDS });
    assert.equal(profile.name, 'office-draft');
    for (const [field, value] of Object.entries(without(RICH_FIELDS, 'calling_window'))) {
      assert.deepEqual(profile[field], value, field);
    }
    // Telnyx's examples give times as '08:00:00.00Z'; ovp answers the canonical 'HH:MM:SS'.
    assert.deepEqual(profile.calling_window, { start_time: '08:00:00', end_time: '20:00:00', calls_per_cld: 5 });

    const retrieved = await client.outboundVoiceProfiles.retrieve(profile.id);
    assert.deepEqual(retrieved.data, profile);
  });

  test('update with a name only changes the name, keeps every other field and moves updated_at', async () => {
    const before = await createProfile({ name: 'Branch draft', ...RICH_FIELDS });
    await tick();
    const updated = await client.outboundVoiceProfiles.update(before.id, { name: 'Branch' });
    const after = updated.data;
    assert.equal(after.name, 'Branch');
    assert.deepEqual(without(after, 'name', 'updated_at'), without(before, 'name', 'updated_at'));
    assert.match(after.updated_at, TIMESTAMP);
    assert.ok(after.updated_at > before.updated_at, `${after.updated_at} is not after ${before.updated_at}`);
    assert.deepEqual((await client.outboundVoiceProfiles.retrieve(before.id)).data, after);
  });

  test('update merges nested objects, replaces arrays and clears with null', async () => {
    const before = await createProfile({ name: 'Merge me', ...RICH_FIELDS });
    const { data: after } = await client.outboundVoiceProfiles.update(before.id, {
      name: 'Merge me',
      call_recording: { call_recording_format: 'wav' },
      whitelisted_destinations: ['GB'],
      concurrent_call_limit: null,
    });
    assert.deepEqual(after.call_recording, { ...RICH_FIELDS.call_recording, call_recording_format: 'wav' });
    assert.deepEqual(after.whitelisted_destinations, ['GB']);
    assert.equal(after.concurrent_call_limit, null);
    assert.deepEqual(after.tags, before.tags);
    assert.deepEqual(after.calling_window, before.calling_window);
  });

  test('list pages automatically across every page, newest first, with the query the SDK builds', async () => {
    const requested = [];
    const sdk = ownAccount('paging', {
      fetch: (url, init) => {
        requested.push(new URL(String(url)));
        return fetch(url, init);
      },
    });
    const made = [];
    for (let index = 0; index < 7; index += 1) {
      made.push((await createProfile({ name: `Paged ${index}` }, sdk)).id);
      await tick();
    }
    requested.length = 0;

    const seen = [];
    for await (const profile of sdk.outboundVoiceProfiles.list({ 'page[size]': 2 })) {
      seen.push(profile.id);
    }
    assert.deepEqual(seen, [...made].reverse());
    assert.deepEqual(
      requested.map((url) => [url.pathname, url.searchParams.get('page[size]'), url.searchParams.get('page[number]')]),
      [
        ['/v2/outbound_voice_profiles', '2', null],
        ['/v2/outbound_voice_profiles', '2', '2'],
        ['/v2/outbound_voice_profiles', '2', '3'],
        ['/v2/outbound_voice_profiles', '2', '4'],
      ],
    );

    const metas = [];
    for await (const page of (await sdk.outboundVoiceProfiles.list({ 'page[size]': 3, sort: 'name' })).iterPages()) {
      metas.push({ ...page.meta, names: page.data.map((profile) => profile.name) });
    }
    assert.deepEqual(metas, [
      { page_number: 1, page_size: 3, total_pages: 3, total_results: 7, names: ['Paged 0', 'Paged 1', 'Paged 2'] },
      { page_number: 2, page_size: 3, total_pages: 3, total_results: 7, names: ['Paged 3', 'Paged 4', 'Paged 5'] },
      { page_number: 3, page_size: 3, total_pages: 3, total_results: 7, names: ['Paged 6'] },
    ]);

    const beyond = await sdk.outboundVoiceProfiles.list({ 'page[size]': 3, 'page[number]': 9 });
    assert.deepEqual(beyond.data, []);
    assert.deepEqual(beyond.meta, { page_number: 9, page_size: 3, total_pages: 3, total_results: 7 });
    assert.equal(beyond.hasNextPage(), false);
  });

  test('list filters by name, ignoring case', async () => {
    const sdk = ownAccount('filter');
    const alpha = await createProfile({ name: 'Alpha office' }, sdk);
    const alphabet = await createProfile({ name: 'alphabet soup' }, sdk);
    await createProfile({ name: 'Beta office' }, sdk);

    const found = [];
    for await (const profile of sdk.outboundVoiceProfiles.list({ filter: { name: { contains: 'ALPHA' } } })) {
      found.push(profile.id);
    }
    assert.deepEqual(found.sort(), [alpha.id, alphabet.id].sort());

    const none = await sdk.outboundVoiceProfiles.list({ filter: { name: { contains: 'gamma' } } });
    assert.deepEqual(none.data, []);
    assert.equal(none.meta.total_results, 0);
  });

  test('delete answers the profile as it was, and then it is gone', async () => {
    const sdk = ownAccount('delete');
    const profile = await createProfile({ name: 'Short-lived', tags: ['temp'] }, sdk);
    const deleted = await sdk.outboundVoiceProfiles.delete(profile.id);
    assert.deepEqual(deleted.data, profile);

    await rejected(() => sdk.outboundVoiceProfiles.retrieve(profile.id), NotFoundError, 404);
    await rejected(() => sdk.outboundVoiceProfiles.delete(profile.id), NotFoundError, 404);
    assert.deepEqual((await sdk.outboundVoiceProfiles.list()).data, []);
  });
});

// 2. Every error the SDK can provoke ---------------------------------------------------------------------

describe('errors', () => {
  test('an unknown id is a NotFoundError with code 10005, on every operation', async () => {
    for (const call of [
      () => client.outboundVoiceProfiles.retrieve(UNKNOWN_ID),
      () => client.outboundVoiceProfiles.update(UNKNOWN_ID, { name: 'office' }),
      () => client.outboundVoiceProfiles.delete(UNKNOWN_ID),
    ]) {
      const error = await rejected(call, NotFoundError, 404);
      assert.equal(error.error.errors.length, 1);
      assert.equal(error.error.errors[0].code, '10005');
      assert.equal(error.error.errors[0].title, 'Resource not found');
    }
  });

  test('a non-numeric id is a NotFoundError with code 10005', async () => {
    for (const id of ['not-a-number', 'abc', '-1', '12a']) {
      const error = await rejected(() => client.outboundVoiceProfiles.retrieve(id), NotFoundError, 404);
      assert.equal(error.error.errors[0].code, '10005');
    }
  });

  test("another account's profile is a NotFoundError, never reachable", async () => {
    const mine = await createProfile({ name: 'Mine only' });
    const stranger = ownAccount('stranger');
    await rejected(() => stranger.outboundVoiceProfiles.retrieve(mine.id), NotFoundError, 404);
    await rejected(() => stranger.outboundVoiceProfiles.update(mine.id, { name: 'Hijacked' }), NotFoundError, 404);
    await rejected(() => stranger.outboundVoiceProfiles.delete(mine.id), NotFoundError, 404);
    assert.equal((await client.outboundVoiceProfiles.retrieve(mine.id)).data.name, 'Mine only');
  });

  test('a name too short is an UnprocessableEntityError with code 10025 at /name', async () => {
    const sdk = ownAccount('short-name');
    const error = await rejected(() => sdk.outboundVoiceProfiles.create({ name: 'ab' }), UnprocessableEntityError, 422);
    assert.equal(error.error.errors.length, 1);
    const [problem] = error.error.errors;
    assert.equal(problem.code, '10025');
    assert.equal(problem.title, 'String length out of range');
    assert.deepEqual(problem.source, { pointer: '/name' });
    assert.deepEqual((await sdk.outboundVoiceProfiles.list()).data, []);

    const profile = await createProfile({ name: 'Long enough' }, sdk);
    const onUpdate = await rejected(
      () => sdk.outboundVoiceProfiles.update(profile.id, { name: 'ab' }),
      UnprocessableEntityError,
      422,
    );
    assert.equal(onUpdate.error.errors[0].code, '10025');
    assert.deepEqual(onUpdate.error.errors[0].source, { pointer: '/name' });
    assert.equal((await sdk.outboundVoiceProfiles.retrieve(profile.id)).data.name, 'Long enough');
  });

  test('a missing name is code 10004, and every problem of a request is listed with its pointer', async () => {
    const missing = await rejected(() => client.outboundVoiceProfiles.create({}), UnprocessableEntityError, 422);
    assert.deepEqual(
      missing.error.errors.map((problem) => [problem.code, problem.source]),
      [['10004', { pointer: '/name' }]],
    );

    const many = await rejected(
      () =>
        client.outboundVoiceProfiles.create({
          name: 'x',
          traffic_type: 'bogus',
          enabled: 'yes',
          concurrent_call_limit: 0,
          whitelisted_destinations: ['ZZ'],
        }),
      UnprocessableEntityError,
      422,
    );
    assert.deepEqual(
      many.error.errors.map((problem) => [problem.code, problem.source.pointer]).sort(),
      [
        ['10015', '/whitelisted_destinations/0'],
        ['10025', '/name'],
        ['10026', '/enabled'],
        ['10032', '/traffic_type'],
        ['10033', '/concurrent_call_limit'],
      ],
    );
  });

  test('a bad query parameter is an UnprocessableEntityError naming the parameter', async () => {
    const error = await rejected(
      () => client.outboundVoiceProfiles.list({ 'page[size]': 0 }),
      UnprocessableEntityError,
      422,
    );
    assert.deepEqual(
      error.error.errors.map((problem) => [problem.code, problem.source]),
      [['10033', { parameter: 'page[size]' }]],
    );
  });

  test('an unknown key is an AuthenticationError with code 10009', async () => {
    const stranger = telnyx({ apiKey: 'KEYnot-a-real-key', baseURL: KEYS_BASE_URL });
    for (const call of [
      () => stranger.outboundVoiceProfiles.list(),
      () => stranger.outboundVoiceProfiles.create({ name: 'office' }),
      () => stranger.outboundVoiceProfiles.retrieve(UNKNOWN_ID),
      () => stranger.outboundVoiceProfiles.update(UNKNOWN_ID, { name: 'office' }),
      () => stranger.outboundVoiceProfiles.delete(UNKNOWN_ID),
    ]) {
      const error = await rejected(call, AuthenticationError, 401);
      assert.equal(error.error.errors.length, 1);
      assert.equal(error.error.errors[0].code, '10009');
      assert.equal(error.error.errors[0].title, 'Authentication failed');
    }
  });

  test('an empty key is an AuthenticationError with code 10009, even in open mode', async () => {
    const error = await rejected(() => telnyx({ apiKey: '' }).outboundVoiceProfiles.list(), AuthenticationError, 401);
    assert.equal(error.error.errors[0].code, '10009');
  });

  test('a stale If-Match is refused with 412; the current ETag is accepted', async () => {
    const profile = await createProfile({ name: 'Guarded' });
    const { response } = await client.outboundVoiceProfiles.retrieve(profile.id).withResponse();
    const etag = response.headers.get('etag');
    assert.ok(etag, 'no ETag on a profile answer');

    const stale = await rejected(
      () => client.outboundVoiceProfiles.update(profile.id, { name: 'Guarded 2' }, { headers: { 'If-Match': '"stale"' } }),
      APIError,
      412,
    );
    assert.equal(stale.error.errors[0].code, '10015');
    const { data } = await client.outboundVoiceProfiles.update(
      profile.id,
      { name: 'Guarded 2' },
      { headers: { 'If-Match': etag } },
    );
    assert.equal(data.name, 'Guarded 2');
  });

  test('a method the resource does not have is an APIError 405 in the envelope', async () => {
    const error = await rejected(() => client.put(`/outbound_voice_profiles/${UNKNOWN_ID}`, { body: {} }), APIError, 405);
    assert.equal(error.error.errors[0].code, '10015');
  });
});

// 3. Telnyx's documented example --------------------------------------------------------------------------

// The JavaScript sample for PATCH /v2/outbound_voice_profiles/{id} ("Updates an existing outbound voice
// profile", operationId UpdateOutboundVoiceProfile), from Telnyx's API reference at
// https://developers.telnyx.com/api-reference/outbound-voice-profiles/updates-an-existing-outbound-voice-profile
// (the `x-codeSamples` of https://telnyx-openapi-ng.s3.us-east-1.amazonaws.com/real-time-communications/outbound-voice-profiles.yml).
// It runs as written, as an ES module of its own in a separate `node` process, with one line added (`baseURL`)
// and its example id '1293384261075731499' replaced by the id of a profile that exists.
const DOCUMENTED_ID = '1293384261075731499';
const DOCUMENTED_EXAMPLE = `import Telnyx from 'telnyx';

const client = new Telnyx({
  apiKey: process.env['TELNYX_API_KEY'], // This is the default and can be omitted
  baseURL: process.env['OVP_BASE_URL'],
});

const outboundVoiceProfile = await client.outboundVoiceProfiles.update('1293384261075731499', {
  name: 'office',
});

console.log(outboundVoiceProfile.data);
`;

function runModule(source, env) {
  return new Promise((resolve, reject) => {
    // `--input-type=module` with the source on stdin: top-level await works, and `telnyx` resolves from HERE.
    const child = spawn(process.execPath, ['--input-type=module'], { cwd: HERE, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(source);
  });
}

describe("Telnyx's documented example", () => {
  test('the JavaScript example for updating a profile runs as written, with only baseURL added', async () => {
    const before = await createProfile({ name: 'office-draft', ...RICH_FIELDS });
    assert.equal(DOCUMENTED_EXAMPLE.split(DOCUMENTED_ID).length, 2, 'the example names its id exactly once');
    const source = DOCUMENTED_EXAMPLE.replace(DOCUMENTED_ID, before.id);
    await tick();

    const env = { ...process.env, TELNYX_API_KEY: API_KEY, OVP_BASE_URL: BASE_URL };
    delete env.TELNYX_BASE_URL;
    const run = await runModule(source, env);
    assert.equal(run.code, 0, `the example failed (${run.signal ?? run.code}):\n${run.stderr}\n${run.stdout}`);
    assert.equal(run.stderr, '');
    // console.log of the profile: Node's inspection of the object, with its new name and its id.
    assert.match(run.stdout, new RegExp(`id: '${before.id}'`));
    assert.match(run.stdout, /name: 'office'/);
    assert.match(run.stdout, /record_type: 'outbound_voice_profile'/);

    const after = (await client.outboundVoiceProfiles.retrieve(before.id)).data;
    assert.equal(after.name, 'office');
    assert.deepEqual(without(after, 'name', 'updated_at'), without(before, 'name', 'updated_at'));
    assert.ok(after.updated_at > before.updated_at);
  });
});
