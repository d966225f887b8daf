/**
 * Answers with the documents' field names. Every type is open (`[key: string]: unknown`): servers
 * add fields over time, and an extra field never breaks a client.
 */
export interface Open {
  [key: string]: unknown;
}

export interface Page {
  total?: number;
  limit?: number;
  offset?: number;
}

// ------------------------------------------------------------------ mlops-bot management API

export interface Health extends Open {
  status: string;
  timestamp?: string;
  uptime_seconds?: number;
  version?: string;
  environment?: string;
}
export interface ComponentHealth extends Open {
  status: string;
  message?: string;
  execution_time?: number;
  details?: Record<string, unknown> | null;
}
export interface DetailedHealth extends Health {
  active_executions?: number;
  components: Record<string, ComponentHealth>;
}
export interface Repository extends Open {
  id?: string;
  full_name: string;
  status?: string;
  last_event?: string | null;
  issues_detected?: number;
  repairs_attempted?: number;
  success_rate?: number | null;
}
export interface RepositoryList extends Page, Open {
  repositories: Repository[];
}
export interface RepositoryDetails extends Repository {
  configuration?: Record<string, unknown>;
  statistics?: {
    total_events?: number;
    issues_detected?: number;
    repairs_successful?: number;
    repairs_failed?: number;
    average_response_time?: number | null;
    last_activity?: string | null;
  } & Open;
  recent_issues?: Open[];
}
export interface RepositoryConfig extends Open {
  auto_fix_enabled?: boolean;
  detection_sensitivity?: string;
  notification_channels?: string[];
  custom_playbooks?: string[];
}
export interface Issue extends Open {
  id: string;
  repository?: string;
  type?: string;
  severity?: string;
  status?: string;
  detected_at?: string;
  resolved_at?: string | null;
  resolution_time?: number | null;
  description?: string;
  metadata?: Record<string, unknown>;
  actions_taken?: ({ action: string; status?: string; executed_at?: string } & Open)[];
  timeline?: ({ timestamp: string; event: string; details?: unknown } & Open)[];
}
export interface IssueList extends Page, Open {
  issues: Issue[];
}
export interface ResolutionResult extends Open {
  message?: string;
  execution_id: string;
  estimated_completion?: string;
}
export interface Playbook extends Open {
  name: string;
  version?: string;
  description?: string;
  supported_issues?: string[];
  success_rate?: number | null;
  enabled?: boolean;
  last_updated?: string;
}
export interface PlaybookList extends Page, Open {
  playbooks: Playbook[];
}
export interface PlaybookDetails extends Playbook {
  author?: string;
  created_at?: string;
  configuration?: Record<string, unknown>;
  statistics?: Open;
  actions?: ({ type: string; description?: string } & Open)[];
}
export interface Analytics extends Open {
  period?: string;
  summary: {
    total_events?: number;
    issues_detected?: number;
    issues_resolved?: number;
    resolution_rate?: number | null;
    average_resolution_time?: number | null;
    most_common_issue_type?: string | null;
  } & Open;
  timeseries?: Record<string, ({ timestamp: string; value?: number } & Open)[]>;
  breakdown_by_type?: Record<string, Open>;
  top_repositories?: Open[];
}
export interface SystemConfig extends Open {
  features?: Record<string, unknown>;
  limits?: Record<string, unknown>;
  integrations?: Record<string, unknown>;
}

// ------------------------------------------------------------------ Healing Guard API

export interface ApiHealth extends Open {
  status: string;
  timestamp?: string;
  services?: Record<string, string>;
}
export interface Pipeline extends Open {
  id: string;
  name?: string;
  status?: string;
  last_run?: string | null;
  failure_count?: number;
  tenant_id?: string;
}
export interface PipelineList extends Page, Open {
  pipelines: Pipeline[];
}
export interface PipelineDetails extends Pipeline {
  config?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  recent_failures?: unknown[];
}
export interface Failure extends Open {
  id: string;
  pipeline_id?: string;
  type?: string;
  severity?: string;
  detected_at?: string;
  resolved_at?: string | null;
  healing_actions?: ({ action: string; result?: string; duration?: number | null } & Open)[];
}
export interface FailureList extends Page, Open {
  failures: Failure[];
}
export interface FailurePattern extends Open {
  pattern_id: string;
  type?: string;
  frequency?: number;
  last_occurrence?: string;
  predicted_next?: string | null;
  confidence?: number;
}
export interface PatternList extends Open {
  patterns: FailurePattern[];
}
export interface Prediction extends Open {
  pipeline_id: string;
  prediction: {
    failure_probability: number;
    most_likely_failure?: string | null;
    confidence?: number;
    recommended_actions?: string[];
  } & Open;
}
export interface TokenPair extends Open {
  access_token: string;
  refresh_token: string;
  expires_in?: number;
  user_info?: Open;
}
export interface Audit extends Open {
  id: string;
  standard?: string;
  status?: string;
  audit_date?: string;
  findings?: unknown[];
  risk_score?: number;
  digital_signature?: string;
}
export interface AuditList extends Page, Open {
  audits: Audit[];
}
export interface Tenant extends Open {
  id: string;
  name?: string;
  status?: string;
  created_at?: string;
  resource_quota?: Open;
  current_usage?: Open;
}
export interface TenantList extends Page, Open {
  tenants: Tenant[];
}
export interface TenantUsage extends Open {
  tenant_id: string;
  usage_period?: { start: string; end: string } & Open;
  metrics?: Open;
  billing_amount?: number;
}
export interface ClusterStatus extends Open {
  cluster_id?: string;
  leader_node?: string;
  total_nodes?: number;
  healthy_nodes?: number;
  nodes?: Open[];
}
