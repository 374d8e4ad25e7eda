// HTTP calls of the admin screens: ERP sources (crm_bridge/sources_api.py), imports
// (crm_bridge/importer/api.py) and watch rules (crm_bridge/rules_api.py). Same conventions as
// ../api.ts: session cookie, X-CSRFToken on writes, errors as ApiError.

import { apiRequest } from "../api";
import type { ImportJob } from "./logic";

// One helper for every module (../api.ts): the same headers, errors and sign-in redirect.
const call = apiRequest;

export interface Source {
  id: number;
  workspace: number;
  name: string;
  kind: "builtin" | "odoo" | "rest" | string;
  config: Record<string, unknown>;
  credentials: Record<string, string>;
  credentials_readable: boolean;
  is_default: boolean;
  enabled: boolean;
  created_at: string;
  circuit: string | null;
}

export interface SyncState {
  record_type: string;
  last_run_at: string | null;
  last_success_at: string | null;
  last_error: string;
  records_synced: number;
}

export interface SyncStatus {
  source_id: number;
  lag_seconds: number | null;
  states: SyncState[];
}

export interface Health {
  ok: boolean;
  detail: string;
  latency_ms: number | null;
}

export interface SourceWrite {
  name?: string;
  config?: Record<string, unknown>;
  credentials?: Record<string, string>;
  is_default?: boolean;
  enabled?: boolean;
}

export type RuleKind = "stock_below_reorder" | "invoice_overdue" | "large_sales_order";

export interface Rule {
  id: number;
  name: string;
  kind: RuleKind;
  channel_id: number;
  source_id: number;
  days: number;
  amount: string | null;
  enabled: boolean;
  open_alerts: { id: number; number: string; detail: string }[];
}

export interface RuleWrite {
  name: string;
  kind: RuleKind;
  channel_id: number;
  days: number;
  amount: string | null;
  enabled: boolean;
}

/** GET/PATCH /api/v1/workspaces/{ws}/policy (hub/policy/schemas.py). */
export interface Policy {
  retention_days: number | null;
  storage_quota_bytes: number | null;
  storage_used_bytes: number;
  member_quota: number | null;
  member_count: number;
  last_retention_at: string | null;
}

/** /api/v1/workspaces/{ws}/exports (hub/portability/schemas.py). */
export interface ExportJob {
  id: number;
  status: "queued" | "running" | "done" | "failed" | string;
  done: number;
  total: number;
  size: number;
  error: string;
  created_at: string;
  finished_at: string | null;
  download_url: string | null;
}

export const WEBHOOK_KINDS = ["slack", "mattermost", "dingtalk", "wecom", "feishu"] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];

/** messaging/integrations/schemas.py */
export interface Webhook {
  id: number;
  kind: WebhookKind;
  name: string;
  conversation_id: number;
  signed: boolean;
  keywords: string[];
  created_at: string;
  last_used_at: string | null;
}

export interface Bot {
  id: number;
  name: string;
  active: boolean;
}

export const EVENT_TYPES = ["message", "app_mention", "reaction", "member_joined"] as const;

export interface Subscription {
  id: number;
  bot_user_id: number;
  url: string;
  events: string[];
  active: boolean;
  failure_streak: number;
  disabled_at: string | null;
  disabled_reason: string;
  created_at: string;
}

export interface Delivery {
  id: number;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string;
  created_at: string;
  next_attempt_at: string | null;
  delivered_at: string | null;
}

export interface AppCommand {
  id: number;
  bot_user_id: number;
  name: string;
  url: string;
  usage: string;
  description: string;
  created_at: string;
}

export const IMPORT_TYPES = ["customers", "suppliers", "products", "stock", "prices"] as const;

export const adminApi = {
  sources: (workspaceId: number) => call<Source[]>("GET", `/erp/sources?workspace=${workspaceId}`),
  createSource: (body: SourceWrite & { workspace: number; kind: string }) => call<Source>("POST", "/erp/sources", body),
  updateSource: (id: number, body: SourceWrite) => call<Source>("PATCH", `/erp/sources/${id}`, body),
  testSource: (id: number) => call<Health>("POST", `/erp/sources/${id}/test`),
  syncNow: (id: number) => call<SyncStatus>("POST", `/erp/sources/${id}/sync`),
  syncStatus: (id: number) => call<SyncStatus>("GET", `/erp/sources/${id}/sync`),
  startImport: (workspaceId: number, file: File, type: string) => {
    const form = new FormData();
    form.set("file", file);
    form.set("type", type);
    return call<ImportJob>("POST", `/workspaces/${workspaceId}/erp/imports`, form);
  },
  importJob: (workspaceId: number, jobId: number) => call<ImportJob>("GET", `/workspaces/${workspaceId}/erp/imports/${jobId}`),
  policy: (workspaceId: number) => call<Policy>("GET", `/workspaces/${workspaceId}/policy`),
  setRetention: (workspaceId: number, retentionDays: number | null) =>
    call<Policy>("PATCH", `/workspaces/${workspaceId}/policy`, { retention_days: retentionDays }),
  exports: (workspaceId: number) => call<ExportJob[]>("GET", `/workspaces/${workspaceId}/exports`),
  startExport: (workspaceId: number) => call<ExportJob>("POST", `/workspaces/${workspaceId}/exports`),
  exportJob: (workspaceId: number, id: number) => call<ExportJob>("GET", `/workspaces/${workspaceId}/exports/${id}`),
  webhooks: (conversationId: number) =>
    call<{ webhooks: Webhook[] }>("GET", `/conversations/${conversationId}/webhooks`),
  createWebhook: (conversationId: number, kind: WebhookKind, name: string) =>
    call<Webhook & { url: string; secret: string | null }>("POST", `/conversations/${conversationId}/webhooks`, { kind, name }),
  revokeWebhook: (id: number) => call<void>("DELETE", `/webhooks/${id}`),
  bots: (workspaceId: number) => call<{ bots: Bot[] }>("GET", `/workspaces/${workspaceId}/bots`),
  createBot: (workspaceId: number, name: string) => call<Bot & { token: string }>("POST", `/workspaces/${workspaceId}/bots`, { name }),
  rotateBot: (workspaceId: number, id: number) => call<Bot & { token: string }>("POST", `/workspaces/${workspaceId}/bots/${id}/token`),
  deactivateBot: (workspaceId: number, id: number) => call<void>("DELETE", `/workspaces/${workspaceId}/bots/${id}`),
  subscriptions: (workspaceId: number) =>
    call<{ subscriptions: Subscription[] }>("GET", `/workspaces/${workspaceId}/subscriptions`),
  createSubscription: (workspaceId: number, botId: number, url: string, events: string[]) =>
    call<Subscription & { secret: string }>("POST", `/workspaces/${workspaceId}/bots/${botId}/subscriptions`, { url, events }),
  setSubscriptionActive: (id: number, active: boolean) =>
    call<Subscription>("POST", `/subscriptions/${id}/${active ? "enable" : "disable"}`),
  deleteSubscription: (id: number) => call<void>("DELETE", `/subscriptions/${id}`),
  deliveries: (id: number) => call<{ deliveries: Delivery[] }>("GET", `/subscriptions/${id}/deliveries?limit=50`),
  appCommands: (workspaceId: number) => call<{ commands: AppCommand[] }>("GET", `/workspaces/${workspaceId}/app-commands`),
  createAppCommand: (workspaceId: number, body: { bot_id: number; name: string; url: string; usage: string; description: string }) =>
    call<AppCommand & { token: string; signing_secret: string }>("POST", `/workspaces/${workspaceId}/app-commands`, body),
  deleteAppCommand: (id: number) => call<void>("DELETE", `/app-commands/${id}`),
  rules: (workspaceId: number) => call<Rule[]>("GET", `/workspaces/${workspaceId}/erp/rules`),
  createRule: (workspaceId: number, body: RuleWrite) => call<Rule>("POST", `/workspaces/${workspaceId}/erp/rules`, body),
  updateRule: (workspaceId: number, id: number, body: RuleWrite) =>
    call<Rule>("PUT", `/workspaces/${workspaceId}/erp/rules/${id}`, body),
  deleteRule: (workspaceId: number, id: number) => call<void>("DELETE", `/workspaces/${workspaceId}/erp/rules/${id}`),
};
