// The transport against a loopback HTTP server: typed errors, Retry-After-aware bounded retries.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import {
  InvalidRequestError,
  MLOpsBotClient,
  HealingGuardClient,
  MLOpsBotError,
  NotFoundError,
  RateLimitedError,
  ServiceUnavailableError,
  TransportError,
  ValidationFailedError,
  retryAfterSeconds,
} from '@mlops-bot/sdk';
import { HealingGuardClient as FromSubpath } from '@mlops-bot/sdk/healing-guard';

// Each test queues the answers the server gives, in order; the server records what it was asked.
let answers = [];
const asked = [];
let server;
let base;

before(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      asked.push({ method: request.method, url: request.url, headers: request.headers, body });
      const [status, payload, headers = {}] = answers.shift() ?? [500, { error: { code: 'INTERNAL_ERROR', message: 'no answer queued' } }];
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(text);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

function client(options = {}) {
  const slept = [];
  const bot = new MLOpsBotClient({ baseURL: base, apiKey: 'mlb_test', sleep: async (ms) => void slept.push(ms), ...options });
  return { bot, slept };
}
function reset(...queued) {
  answers = queued;
  asked.length = 0;
}
const specError = (code, message, extra = {}) => ({
  error: { code, message, request_id: 'req-1', timestamp: '2025-08-27T21:01:56Z', ...extra },
});

test('429 waits as Retry-After says, then succeeds', async () => {
  reset(
    [429, specError('RATE_LIMITED', 'Rate limit exceeded'), { 'retry-after': '2' }],
    [429, specError('RATE_LIMITED', 'Rate limit exceeded'), { 'retry-after': '1' }],
    [200, { issues: [{ id: 'issue-123', type: 'data_drift', extra_field: 1 }], total: 1 }],
  );
  const { bot, slept } = client();
  const issues = await bot.issues.list({ status: 'resolved', limit: 10 });
  assert.equal(issues.issues[0].id, 'issue-123');
  assert.equal(issues.issues[0].extra_field, 1);
  assert.deepEqual(slept, [2000, 1000]);
  assert.equal(asked[2].url, '/api/v1/issues?status=resolved&limit=10');
  assert.equal(asked[0].headers.authorization, 'Bearer mlb_test');
});

test('429 retries are bounded and the last refusal is thrown with retryAfter', async () => {
  const limited = [429, specError('RATE_LIMITED', 'Rate limit exceeded'), { 'retry-after': '1' }];
  reset(limited, limited, limited);
  const { bot, slept } = client({ maxRetries: 2 });
  await assert.rejects(bot.issues.list(), (error) => {
    assert.ok(error instanceof RateLimitedError && error instanceof MLOpsBotError);
    assert.equal(error.retryAfter, 1);
    assert.equal(error.status, 429);
    return true;
  });
  assert.equal(asked.length, 3);
  assert.deepEqual(slept, [1000, 1000]);
});

test('a wait longer than maxRetryAfter is left to the caller', async () => {
  reset([429, specError('RATE_LIMITED', 'Rate limit exceeded'), { 'retry-after': '600' }]);
  const { bot, slept } = client({ maxRetryAfter: 60 });
  await assert.rejects(bot.issues.list(), (error) => error instanceof RateLimitedError && error.retryAfter === 600);
  assert.equal(asked.length, 1);
  assert.deepEqual(slept, []);
});

test('503 backs off exponentially, even for a POST (nothing was done)', async () => {
  const unavailable = [503, specError('SERVICE_UNAVAILABLE', 'Service temporarily unavailable')];
  reset(unavailable, unavailable, [202, { execution_id: 'exec-1' }]);
  const { bot, slept } = client();
  const result = await bot.issues.resolve('issue-123', { action: 'retry' });
  assert.equal(result.execution_id, 'exec-1');
  assert.deepEqual(slept, [500, 1000]);
  assert.deepEqual(JSON.parse(asked[2].body), { action: 'retry', force: false, parameters: {} });
});

test('502 is retried for reads, never for a heal that may have happened', async () => {
  reset([502, '<html>Bad Gateway</html>', { 'apigw-requestid': 'gw-1' }], [200, { id: 'issue-1' }]);
  const { bot } = client();
  assert.equal((await bot.issues.get('issue-1')).id, 'issue-1');
  assert.equal(asked.length, 2);

  reset([502, '<html>Bad Gateway</html>', { 'apigw-requestid': 'gw-1' }]);
  const guard = new HealingGuardClient({ baseUrl: base, apiToken: 'jwt', sleep: async () => {} });
  await assert.rejects(guard.failures.heal('failure-456'), (error) => {
    assert.ok(error instanceof ServiceUnavailableError);
    assert.equal(error.requestId, 'gw-1');
    assert.equal(error.message, '<html>Bad Gateway</html>');
    return true;
  });
  assert.equal(asked.length, 1);
});

test('errors are classes by code, then by status; unknown codes keep their code', async () => {
  const cases = [
    [400, specError('INVALID_REQUEST', 'The request is invalid'), InvalidRequestError, 'INVALID_REQUEST'],
    [422, specError('VALIDATION_FAILED', 'Request validation failed'), ValidationFailedError, 'VALIDATION_FAILED'],
    [404, specError('PIPELINE_NOT_FOUND', "Pipeline with ID 'pipeline-123' not found", { details: { resource_type: 'pipeline', resource_id: 'pipeline-123' } }), NotFoundError, 'PIPELINE_NOT_FOUND'],
    [418, { error: { code: 'TEAPOT', message: 'short and stout' } }, MLOpsBotError, 'TEAPOT'],
  ];
  const guard = new FromSubpath({ baseUrl: base, apiToken: 'jwt' });
  for (const [status, body, cls, code] of cases) {
    reset([status, body]);
    await assert.rejects(guard.pipelines.get('pipeline-123'), (error) => {
      assert.equal(error.constructor, cls);
      assert.equal(error.code, code);
      assert.equal(error.status, status);
      return true;
    });
  }
});

test('a connection that never opens is retried, then a TransportError', async () => {
  const closed = createServer();
  await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = closed.address().port;
  await new Promise((resolve) => closed.close(resolve));
  const slept = [];
  const bot = new MLOpsBotClient({ baseURL: `http://127.0.0.1:${port}`, apiKey: 'k', maxRetries: 2, sleep: async (ms) => void slept.push(ms) });
  await assert.rejects(bot.health.get(), (error) => error instanceof TransportError && error.status === undefined);
  assert.deepEqual(slept, [500, 1000]);
});

test('Retry-After may be an HTTP date', () => {
  const now = Date.parse('2025-08-27T21:00:00Z');
  assert.equal(retryAfterSeconds('Wed, 27 Aug 2025 21:00:30 GMT', now), 30);
  assert.equal(retryAfterSeconds('soon', now), undefined);
});
