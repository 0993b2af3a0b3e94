// Verifies webhooks with npm's telnyx SDK, as a Node receiver would: reads a JSON array of
// {body, headers} and the public key from stdin ({key, webhooks}), and prints, for each, the
// event type unwrap answered or the error it threw. Run by tests/e2e/test_webhooks.py.
import Telnyx from 'telnyx';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { key, webhooks } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const client = new Telnyx({ apiKey: 'unused', baseURL: 'http://127.0.0.1:9/v2' });
const results = [];
for (const webhook of webhooks) {
  try {
    const event = await client.webhooks.unwrap(webhook.body, { headers: webhook.headers, key });
    results.push({ ok: true, event_type: event.data.event_type });
  } catch (error) {
    results.push({ ok: false, error: `${error.name}: ${error.message}` });
  }
}
process.stdout.write(JSON.stringify(results));
