/** The two clients: `MLOpsBotClient` (management API) and `HealingGuardClient` (Healing Guard API). */
import { Dashboard, defaultDashboardURL } from './dashboard.js';
import { errorFromBody } from './errors.js';
import { type ClientOptions, Transport, segment, splitFullName } from './transport.js';
import type * as T from './types.js';

abstract class Resource {
  constructor(protected readonly transport: Transport) {}
}

// ------------------------------------------------------------------ mlops-bot management API

export class HealthResource extends Resource {
  /** `GET /health` */
  get(): Promise<T.Health> {
    return this.transport.request('GET', '/health');
  }
  /** `GET /health/detailed`; an unhealthy system answers 503 with the report, which is returned. */
  getDetailed(): Promise<T.DetailedHealth> {
    return this.transport.request('GET', '/health/detailed', { accept: [503] });
  }
  /** `GET /health/ready` (503 with the report when not ready, returned too). */
  ready(): Promise<T.Open & { status: string }> {
    return this.transport.request('GET', '/health/ready', { accept: [503] });
  }
  /** `GET /health/live` */
  live(): Promise<T.Open & { status: string }> {
    return this.transport.request('GET', '/health/live');
  }
}

export class Repositories extends Resource {
  /** `GET /api/v1/repositories` */
  list(params: { status?: string; limit?: number; offset?: number } = {}): Promise<T.RepositoryList> {
    return this.transport.request('GET', '/api/v1/repositories', { query: params });
  }
  /** `GET /api/v1/repositories/{owner}/{repo}` */
  get(fullName: string): Promise<T.RepositoryDetails> {
    const [owner, name] = splitFullName(fullName);
    return this.transport.request('GET', `/api/v1/repositories/${segment(owner)}/${segment(name)}`);
  }
  /** `PUT /api/v1/repositories/{owner}/{repo}/config` */
  updateConfig(fullName: string, config: T.RepositoryConfig): Promise<T.Open> {
    const [owner, name] = splitFullName(fullName);
    return this.transport.request('PUT', `/api/v1/repositories/${segment(owner)}/${segment(name)}/config`, {
      body: config,
    });
  }
}

export class Issues extends Resource {
  /** `GET /api/v1/issues` */
  list(
    params: { repository?: string; type?: string; severity?: string; status?: string; limit?: number; offset?: number } = {},
  ): Promise<T.IssueList> {
    return this.transport.request('GET', '/api/v1/issues', { query: params });
  }
  /** `GET /api/v1/issues/{id}` */
  get(id: string): Promise<T.Issue> {
    return this.transport.request('GET', `/api/v1/issues/${segment(id)}`);
  }
  /** `POST /api/v1/issues/{id}/resolve`; not retried on 502/504, which could trigger it twice. */
  resolve(
    id: string,
    options: { action?: string; force?: boolean; parameters?: Record<string, unknown> } = {},
  ): Promise<T.ResolutionResult> {
    const body = { action: options.action ?? 'retry_failed_action', force: options.force ?? false, parameters: options.parameters ?? {} };
    return this.transport.request('POST', `/api/v1/issues/${segment(id)}/resolve`, { body });
  }
}

export class Playbooks extends Resource {
  /** `GET /api/v1/playbooks` */
  list(): Promise<T.PlaybookList> {
    return this.transport.request('GET', '/api/v1/playbooks');
  }
  /** `GET /api/v1/playbooks/{name}` */
  get(name: string): Promise<T.PlaybookDetails> {
    return this.transport.request('GET', `/api/v1/playbooks/${segment(name)}`);
  }
  /** `PATCH /api/v1/playbooks/{name}` */
  setEnabled(name: string, enabled: boolean, reason?: string): Promise<T.Open> {
    return this.transport.request('PATCH', `/api/v1/playbooks/${segment(name)}`, {
      body: reason ? { enabled, reason } : { enabled },
    });
  }
}

export class AnalyticsResource extends Resource {
  /** `GET /api/v1/analytics` */
  get(params: { period?: string; repository?: string; metric_type?: string } = {}): Promise<T.Analytics> {
    return this.transport.request('GET', '/api/v1/analytics', { query: { period: '24h', ...params } });
  }
}

export class Metrics extends Resource {
  /** `GET /metrics`: the Prometheus text exposition. */
  get(): Promise<string> {
    return this.transport.request('GET', '/metrics', { as: 'text' });
  }
}

export class SystemConfiguration extends Resource {
  /** `GET /api/v1/config` */
  get(): Promise<T.SystemConfig> {
    return this.transport.request('GET', '/api/v1/config');
  }
  /** `PUT /api/v1/config` */
  update(config: T.SystemConfig): Promise<T.Open> {
    return this.transport.request('PUT', '/api/v1/config', { body: config });
  }
}

export class Webhooks extends Resource {
  /**
   * `POST /webhooks/github`: a GitHub delivery signed with the webhook secret
   * (`X-Hub-Signature-256`), as GitHub sends it; for tests and replays.
   */
  async send(event: string, payload: unknown, secret: string, deliveryId?: string): Promise<T.Open> {
    const body = JSON.stringify(payload);
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body)));
    const signature = 'sha256=' + Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
    const response = await fetch(this.transport.url('/webhooks/github'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': deliveryId ?? crypto.randomUUID(),
        'x-hub-signature-256': signature,
      },
      body,
    });
    const text = await response.text();
    const decoded: unknown = text ? JSON.parse(text) : {};
    if (!response.ok) {
      throw errorFromBody(decoded, response.status, response.statusText, response.headers.get('x-request-id') ?? undefined);
    }
    return decoded as T.Open;
  }
}

export class MLOpsBotClient {
  readonly health: HealthResource;
  readonly repositories: Repositories;
  readonly issues: Issues;
  readonly playbooks: Playbooks;
  readonly analytics: AnalyticsResource;
  readonly metrics: Metrics;
  readonly config: SystemConfiguration;
  readonly webhooks: Webhooks;
  protected readonly transport: Transport;

  /** `new MLOpsBotClient({ baseURL, apiKey })` */
  constructor(options: ClientOptions) {
    this.transport = new Transport(options);
    this.health = new HealthResource(this.transport);
    this.repositories = new Repositories(this.transport);
    this.issues = new Issues(this.transport);
    this.playbooks = new Playbooks(this.transport);
    this.analytics = new AnalyticsResource(this.transport);
    this.metrics = new Metrics(this.transport);
    this.config = new SystemConfiguration(this.transport);
    this.webhooks = new Webhooks(this.transport);
  }
}

// ------------------------------------------------------------------ Healing Guard API

export class GuardHealth extends Resource {
  /** `GET /api/health` */
  get(): Promise<T.ApiHealth> {
    return this.transport.request('GET', '/api/health');
  }
  /** `GET /api/status` */
  status(): Promise<T.Open> {
    return this.transport.request('GET', '/api/status');
  }
}

export class Pipelines extends Resource {
  /** `GET /api/pipelines` */
  list(params: { tenant_id?: string; status?: string; limit?: number; offset?: number } = {}): Promise<T.PipelineList> {
    return this.transport.request('GET', '/api/pipelines', { query: params });
  }
  /** `POST /api/pipelines` */
  create(pipeline: { name: string; repository?: string; config?: Record<string, unknown> } & T.Open): Promise<T.PipelineDetails> {
    return this.transport.request('POST', '/api/pipelines', { body: pipeline });
  }
  /** `GET /api/pipelines/{id}` */
  get(id: string): Promise<T.PipelineDetails> {
    return this.transport.request('GET', `/api/pipelines/${segment(id)}`);
  }
  /** `DELETE /api/pipelines/{id}` */
  async delete(id: string): Promise<void> {
    await this.transport.request('DELETE', `/api/pipelines/${segment(id)}`);
  }
}

export class Failures extends Resource {
  /** `GET /api/failures` */
  list(
    params: { pipeline_id?: string; severity?: string; status?: string; from_date?: string | Date; to_date?: string | Date } = {},
  ): Promise<T.FailureList> {
    return this.transport.request('GET', '/api/failures', { query: params });
  }
  /** `POST /api/failures/{id}/heal`; not retried on 502/504, which could trigger it twice. */
  heal(
    id: string,
    options: { action?: string; force?: boolean; parameters?: Record<string, unknown> } = {},
  ): Promise<T.Open> {
    // The default plans again as the bot would; the document's example `custom_heal` is a 422.
    const body = { action: options.action ?? 'retry_failed_action', force: options.force ?? false, parameters: options.parameters ?? {} };
    return this.transport.request('POST', `/api/failures/${segment(id)}/heal`, { body });
  }
}

export class GuardAnalytics extends Resource {
  /** `GET /api/analytics/patterns` */
  patterns(params: { repository?: string; period?: string; since?: string | Date; min_frequency?: number } = {}): Promise<T.PatternList> {
    return this.transport.request('GET', '/api/analytics/patterns', { query: params });
  }
}

export class ML extends Resource {
  /** `POST /api/ml/predict`: a read-only POST, so it is retried like a GET. */
  predict(request: { pipeline_id?: string; repository?: string; prediction_window?: number }): Promise<T.Prediction> {
    if (!request.pipeline_id && !request.repository) throw new TypeError('give pipeline_id or repository');
    return this.transport.request('POST', '/api/ml/predict', {
      body: { prediction_window: 24, ...request },
      idempotent: true,
    });
  }
}

export class Auth extends Resource {
  /** `POST /auth/login` (no credential needed beyond the body). */
  login(username: string, password: string): Promise<T.TokenPair> {
    return this.transport.request('POST', '/auth/login', { body: { username, password } });
  }
  /** `POST /auth/refresh` */
  refresh(refreshToken: string): Promise<T.TokenPair> {
    return this.transport.request('POST', '/auth/refresh', { body: { refresh_token: refreshToken } });
  }
  /** `POST /auth/revoke` */
  revoke(refreshToken: string): Promise<T.Open> {
    return this.transport.request('POST', '/auth/revoke', { body: { refresh_token: refreshToken } });
  }
}

export class Compliance extends Resource {
  /** `GET /api/compliance/audits` */
  listAudits(
    params: { standard?: string; status?: string; from_date?: string | Date; to_date?: string | Date } = {},
  ): Promise<T.AuditList> {
    return this.transport.request('GET', '/api/compliance/audits', { query: params });
  }
  /** `POST /api/compliance/audits` */
  createAudit(audit: { standard: string; scope?: string[]; auditor_id?: string } & T.Open): Promise<T.Audit> {
    return this.transport.request('POST', '/api/compliance/audits', { body: audit });
  }
  /** `GET /api/compliance/audits/verify`: the audit chain's signatures checked. */
  verify(): Promise<T.Open> {
    return this.transport.request('GET', '/api/compliance/audits/verify');
  }
}

export class Tenants extends Resource {
  /** `GET /api/tenants` (admin) */
  list(): Promise<T.TenantList> {
    return this.transport.request('GET', '/api/tenants');
  }
  /** `POST /api/tenants` */
  create(tenant: { name: string; admin_email?: string; resource_quota?: Record<string, number> } & T.Open): Promise<T.Open> {
    return this.transport.request('POST', '/api/tenants', { body: tenant });
  }
  /** `GET /api/tenants/{id}/usage` */
  usage(tenantId: string): Promise<T.TenantUsage> {
    return this.transport.request('GET', `/api/tenants/${segment(tenantId)}/usage`);
  }
}

export class Cluster extends Resource {
  /** `GET /api/cluster/status` */
  status(): Promise<T.ClusterStatus> {
    return this.transport.request('GET', '/api/cluster/status');
  }
  /** `POST /api/cluster/rebalance` */
  rebalance(request: { strategy?: string; force?: boolean } & T.Open = {}): Promise<T.Open> {
    return this.transport.request('POST', '/api/cluster/rebalance', { body: request });
  }
}

export class Users extends Resource {
  /** `GET /api/users` (admin): the tenant's login users. */
  list(): Promise<T.Open & { users: T.Open[]; total?: number }> {
    return this.transport.request('GET', '/api/users');
  }
  /** `POST /api/users` (admin): a login user for `auth.login`. */
  create(user: { username: string; password: string; role?: 'read' | 'write' | 'admin' }): Promise<T.Open> {
    return this.transport.request('POST', '/api/users', { body: user });
  }
}

export interface HealingGuardOptions extends ClientOptions {
  /** Where the WebSocket lives when not at the base URL's `/ws/dashboard` (API Gateway's `wss://` URL). */
  dashboardURL?: string;
}

export class HealingGuardClient {
  readonly health: GuardHealth;
  readonly pipelines: Pipelines;
  readonly failures: Failures;
  readonly analytics: GuardAnalytics;
  readonly ml: ML;
  readonly auth: Auth;
  readonly compliance: Compliance;
  readonly tenants: Tenants;
  readonly cluster: Cluster;
  readonly users: Users;
  readonly dashboard: Dashboard;
  protected readonly transport: Transport;

  /** `new HealingGuardClient({ baseUrl, apiToken })` */
  constructor(options: HealingGuardOptions) {
    this.transport = new Transport(options);
    this.health = new GuardHealth(this.transport);
    this.pipelines = new Pipelines(this.transport);
    this.failures = new Failures(this.transport);
    this.analytics = new GuardAnalytics(this.transport);
    this.ml = new ML(this.transport);
    this.auth = new Auth(this.transport);
    this.compliance = new Compliance(this.transport);
    this.tenants = new Tenants(this.transport);
    this.cluster = new Cluster(this.transport);
    this.users = new Users(this.transport);
    this.dashboard = new Dashboard(
      options.dashboardURL ?? defaultDashboardURL(this.transport.baseURL),
      this.transport.token,
      this.transport.timeoutMs,
    );
  }

  /** `GET /api/analytics/patterns` (also `analytics.patterns`). */
  patterns(params: Parameters<GuardAnalytics['patterns']>[0] = {}): Promise<T.PatternList> {
    return this.analytics.patterns(params);
  }
  /** `POST /api/ml/predict` (also `ml.predict`). */
  predict(request: Parameters<ML['predict']>[0]): Promise<T.Prediction> {
    return this.ml.predict(request);
  }
}
