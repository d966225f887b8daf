// Every route of both API documents and the dashboard stream, against a running local stack.
// Needs MLOPS_BOT_URL, MLOPS_BOT_API_KEY (an admin key) and MLOPS_BOT_WEBHOOK_SECRET; the pytest
// test tests/e2e/test_sdk_js.py starts the stack and sets them.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { ForbiddenError, HealingGuardClient, MLOpsBotClient, NotFoundError, UnauthorizedError, ValidationFailedError } from '@mlops-bot/sdk';

const { MLOPS_BOT_URL: baseURL, MLOPS_BOT_API_KEY: apiKey, MLOPS_BOT_WEBHOOK_SECRET: secret } = process.env;
if (!baseURL || !apiKey || !secret) {
  throw new Error('set MLOPS_BOT_URL, MLOPS_BOT_API_KEY and MLOPS_BOT_WEBHOOK_SECRET to a running local stack (make run)');
}
const REPOSITORY = `acme/js-sdk-${process.pid}`;
const RUN_ID = 8000 + (process.pid % 1000);
const bot = new MLOpsBotClient({ baseURL, apiKey });
const guard = new HealingGuardClient({ baseUrl: baseURL, apiToken: apiKey });

/** Poll `probe` until it returns something truthy, within a deadline. */
async function eventually(probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

/** `promise`, or a failure naming what did not arrive within the deadline (never a hung test run). */
function within(promise, what, timeoutMs = 30_000) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not arrive within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function failedRun(runId, repository) {
  return {
    action: 'completed',
    workflow_run: {
      id: runId,
      name: 'CI',
      status: 'completed',
      conclusion: 'failure',
      head_branch: 'main',
      head_sha: 'f00d'.repeat(10),
      run_attempt: 1,
      html_url: `https://github.example/${repository}/actions/runs/${runId}`,
    },
    repository: { full_name: repository, default_branch: 'main' },
    sender: { login: 'dana' },
  };
}

let incident;
before(async () => {
  const accepted = await bot.webhooks.send('workflow_run', failedRun(RUN_ID, REPOSITORY), secret);
  assert.ok(accepted.execution_id || accepted.message, JSON.stringify(accepted));
  incident = await eventually(async () => (await bot.issues.list({ repository: REPOSITORY })).issues[0]);
});

test('health: /health, /health/detailed, /health/ready, /health/live', async () => {
  const detailed = await bot.health.getDetailed();
  assert.ok(['healthy', 'degraded'].includes(detailed.status));
  // /health answers from the same checks as /health/detailed (locally GitHub is out of reach).
  assert.equal((await bot.health.get()).status, detailed.status);
  assert.equal(detailed.components.database.status, 'healthy');
  assert.ok((await bot.health.ready()).status);
  assert.ok((await bot.health.live()).status);
});

test('repositories: list, get, update config', async () => {
  const listed = await bot.repositories.list({ limit: 500 });
  assert.ok(listed.repositories.some((r) => r.full_name === REPOSITORY));
  const details = await bot.repositories.get(REPOSITORY);
  assert.equal(details.full_name, REPOSITORY);
  assert.ok(details.statistics.issues_detected >= 1);
  const updated = await bot.repositories.updateConfig(REPOSITORY, { auto_fix_enabled: false });
  assert.ok(updated.message || updated.repository);
  assert.equal((await bot.repositories.get(REPOSITORY)).configuration.auto_fix_enabled, false);
});

test('issues: list, get, resolve; an unknown issue is a NotFoundError with a request id', async () => {
  assert.equal(incident.repository, REPOSITORY);
  const detailed = await bot.issues.get(incident.id);
  assert.equal(detailed.metadata.run_id, RUN_ID);
  assert.ok(detailed.timeline.some((t) => t.event === 'issue_detected'));
  const resolution = await bot.issues.resolve(incident.id, { action: 'retry_failed_action' });
  assert.ok(resolution.execution_id);
  await assert.rejects(bot.issues.get('nope'), (error) => {
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.status, 404);
    assert.ok(error.requestId);
    return true;
  });
});

test('a wrong key is an UnauthorizedError', async () => {
  const stranger = new MLOpsBotClient({ baseURL, apiKey: 'mlb_not-a-key' });
  await assert.rejects(stranger.issues.list(), UnauthorizedError);
});

test('playbooks: list, get, disable and enable again', async () => {
  const names = (await bot.playbooks.list()).playbooks.map((p) => p.name);
  assert.ok(names.includes('pipeline_failure_fix'));
  assert.equal((await bot.playbooks.get('pipeline_failure_fix')).name, 'pipeline_failure_fix');
  const off = await bot.playbooks.setEnabled('flaky_test_response', false, 'js sdk test');
  assert.equal(off.enabled, false);
  assert.equal((await bot.playbooks.setEnabled('flaky_test_response', true)).enabled, true);
});

test('analytics and Prometheus metrics', async () => {
  const analytics = await bot.analytics.get({ period: '24h' });
  assert.ok(analytics.summary.issues_detected >= 1);
  const metrics = await bot.metrics.get();
  assert.match(metrics, /^# (HELP|TYPE) /m);
});

test('system configuration: get, and an update answered', async () => {
  const config = await bot.config.get();
  assert.equal(typeof config.features, 'object');
  const updated = await bot.config.update({ features: config.features });
  assert.equal(typeof updated, 'object');
});

test('healing guard health and status', async () => {
  assert.equal((await guard.health.get()).status, 'healthy');
  assert.equal(typeof (await guard.health.status()), 'object');
});

test('pipelines: create, get, list, delete', async () => {
  const created = await guard.pipelines.create({ name: 'JS SDK pipeline', repository: REPOSITORY });
  assert.ok(created.id);
  assert.equal((await guard.pipelines.get(created.id)).id, created.id);
  assert.ok((await guard.pipelines.list()).pipelines.some((p) => p.id === created.id));
  await guard.pipelines.delete(created.id);
  await assert.rejects(guard.pipelines.get(created.id), NotFoundError);
});

test('failures: list includes the incident; heal answers with an execution', async () => {
  const failures = await guard.failures.list();
  assert.ok(failures.failures.some((f) => f.id === incident.id));
  const healed = await guard.failures.heal(incident.id, { action: 'retry_failed_action' });
  assert.equal(typeof healed, 'object');
});

test('patterns and prediction', async () => {
  const patterns = await guard.patterns({ repository: REPOSITORY, min_frequency: 1 });
  assert.ok(patterns.patterns.reduce((sum, p) => sum + (p.frequency ?? 0), 0) >= 1);
  const prediction = await guard.predict({ repository: REPOSITORY, prediction_window: 24 });
  assert.equal(prediction.pipeline_id, REPOSITORY);
  assert.ok(prediction.prediction.failure_probability >= 0 && prediction.prediction.failure_probability <= 1);
  await assert.rejects(guard.ml.predict({ repository: 'acme/never-seen' }), NotFoundError);
});

test('auth: a user logs in, refreshes and revokes; the token reads the API', async () => {
  const username = `js-${process.pid}@example.com`;
  const password = 'correct-horse-battery-staple';
  await guard.users.create({ username, password, role: 'read' });
  const anonymous = new HealingGuardClient({ baseUrl: baseURL, apiToken: 'none' });
  const tokens = await anonymous.auth.login(username, password);
  assert.ok(tokens.access_token && tokens.refresh_token);
  const asUser = new HealingGuardClient({ baseUrl: baseURL, apiToken: tokens.access_token });
  assert.ok(Array.isArray((await asUser.pipelines.list()).pipelines));
  await assert.rejects(asUser.pipelines.create({ name: 'not allowed' }), ForbiddenError);
  const refreshed = await anonymous.auth.refresh(tokens.refresh_token);
  assert.ok(refreshed.access_token);
  await anonymous.auth.revoke(refreshed.refresh_token);
  await assert.rejects(anonymous.auth.refresh(refreshed.refresh_token), UnauthorizedError);
});

test('compliance audits: create, list, verify the chain', async () => {
  const audit = await guard.compliance.createAudit({ standard: 'gdpr', scope: ['data_processing'], auditor_id: 'auditor-456' });
  assert.ok(audit.id);
  assert.ok((await guard.compliance.listAudits({ standard: 'gdpr' })).audits.some((a) => a.id === audit.id));
  assert.equal(typeof (await guard.compliance.verify()), 'object');
  await assert.rejects(guard.compliance.createAudit({ standard: 'not-a-standard' }), ValidationFailedError);
});

test('tenants: list, create, usage', async () => {
  assert.ok((await guard.tenants.list()).tenants.some((t) => t.id === 'default'));
  const created = await guard.tenants.create({ name: `JS SDK ${process.pid}`, admin_email: 'admin@example.com' });
  assert.equal(typeof created, 'object');
  const usage = await guard.tenants.usage('default');
  assert.equal(usage.tenant_id, 'default');
});

test('cluster: status and a rebalance answered or refused with a typed error', async () => {
  const status = await guard.cluster.status();
  assert.ok(status.total_nodes >= 1);
  try {
    assert.equal(typeof (await guard.cluster.rebalance({ strategy: 'dead_letter_redrive' })), 'object');
  } catch (error) {
    assert.ok(error instanceof ValidationFailedError, String(error));
  }
});

test('dashboard: connect delivers system metrics and failure alerts to the handlers', async () => {
  const metrics = [];
  const alerts = [];
  let gotMetrics;
  const metricsSeen = new Promise((resolve) => (gotMetrics = resolve));
  const connection = guard.dashboard.connect({
    onSystemMetrics: (data) => {
      metrics.push(data);
      gotMetrics();
    },
    onFailureAlert: (alert) => alerts.push(alert),
  });
  try {
    await within(connection.opened, 'the dashboard connection');
    await within(metricsSeen, 'a system_metrics message');
    assert.equal(typeof metrics[0].open_incidents, 'number');
    await bot.webhooks.send('workflow_run', failedRun(RUN_ID + 1, REPOSITORY), secret);
    await eventually(() => alerts.length > 0);
    assert.ok(alerts[0].id);
  } finally {
    connection.close();
  }
  assert.equal((await connection.closed).code, 1000);
});

test('dashboard: a runtime with a global WebSocket (a browser) authenticates with ?token=', async () => {
  const { WebSocket: NodeWebSocket } = await import('ws');
  const seen = [];
  globalThis.WebSocket = class extends NodeWebSocket {
    constructor(url, options) {
      seen.push(url);
      super(url, options);
    }
  };
  try {
    const browserLike = new HealingGuardClient({ baseUrl: baseURL, apiToken: apiKey });
    let connection;
    const first = await within(
      new Promise((resolve, reject) => {
        connection = browserLike.dashboard.connect({ onMessage: resolve, onError: reject, types: ['system_metrics'] });
      }),
      'the first system_metrics message',
    );
    connection.close();
    assert.equal(first.type, 'system_metrics');
    assert.equal(new URL(seen[0]).searchParams.get('token'), apiKey);
  } finally {
    delete globalThis.WebSocket;
  }
});
