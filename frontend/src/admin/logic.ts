// Pure rules of the admin screens (no React, no fetch): when an import job is finished and
// how often to poll it, what a source edit sends as credentials, how a sync lag reads.
// Unit-tested.

export interface RowError {
  row: number;
  message: string;
}

/** GET /api/v1/workspaces/{id}/erp/imports/{job} (crm_bridge/importer/schemas.py). */
export interface ImportJob {
  id: number;
  type: string;
  file_name: string;
  state: "queued" | "running" | "done" | "failed" | string;
  percent: number;
  total_rows: number;
  processed_rows: number;
  created: number;
  updated: number;
  rejected: number;
  errors: RowError[];
  failure: string;
  encoding: string;
  created_at: string;
  finished_at: string | null;
}

export function isFinished(job: ImportJob): boolean {
  return job.state === "done" || job.state === "failed";
}

/** The bar's value: the server's percent kept within 0–100, full once the job is done. */
export function progressValue(job: ImportJob): number {
  if (job.state === "done") return 100;
  return Math.max(0, Math.min(100, Math.round(job.percent)));
}

/** Poll quickly at first (small files finish in a second), then back off to 5 s: a big
 *  import on a busy box should not cost a request every half second for minutes. */
export function pollDelay(attempt: number): number {
  return Math.min(5000, 500 * 2 ** Math.max(0, attempt));
}

/** Credentials are write-only: the form starts empty (the stored ones are shown masked
 *  beside it) and only fields the admin typed are sent — an untouched field keeps its value. */
export function credentialsPatch(typed: Record<string, string>): Record<string, string> | undefined {
  const entries = Object.entries(typed).filter(([, value]) => value.trim() !== "");
  return entries.length ? Object.fromEntries(entries.map(([k, v]) => [k, v.trim()])) : undefined;
}

/** What a new source of each kind starts from: its config (edited as JSON — the REST source's
 *  mapping is too rich for a fixed form) and the credential keys it reads
 *  (crm_bridge/sources/odoo/config.py, rest/config.py with the ERPNext preset). */
export const SOURCE_KINDS: Record<"odoo" | "rest", { config: Record<string, unknown>; credentials: string[] }> = {
  odoo: { config: { url: "https://", database: "", username: "" }, credentials: ["api_key"] },
  rest: { config: { base_url: "https://", preset: "erpnext" }, credentials: ["key", "secret"] },
};

/** The config textarea's text as an object, or null when it is not a JSON object. */
export function parseConfig(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** "lag 3 min" style figure: seconds → the largest whole unit. */
export function lagParts(seconds: number | null): { n: number; unit: "s" | "min" | "h" | "d" } | null {
  if (seconds === null || !Number.isFinite(seconds)) return null;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return { n: s, unit: "s" };
  if (s < 3600) return { n: Math.floor(s / 60), unit: "min" };
  if (s < 86400) return { n: Math.floor(s / 3600), unit: "h" };
  return { n: Math.floor(s / 86400), unit: "d" };
}

/** 1536 → "1.5 KB": storage figures for people (binary units, one decimal under 10). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = unit === 0 || value >= 10 ? Math.round(value).toString() : value.toFixed(1);
  return `${shown} ${units[unit]}`;
}

/** Share of a quota used, 0–100; null when there is no quota (unlimited). */
export function usedPercent(used: number, quota: number | null): number | null {
  if (quota === null || quota <= 0) return null;
  return Math.min(100, Math.round((used / quota) * 100));
}

/** The retention field's text as the API's value: empty = keep forever (null); else whole
 *  days within the server's range (hub/policy/actions.py), or undefined when invalid. */
export function parseRetention(text: string): number | null | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  if (!/^\d+$/.test(trimmed)) return undefined;
  const days = Number(trimmed);
  return days >= 1 && days <= 36500 ? days : undefined;
}
