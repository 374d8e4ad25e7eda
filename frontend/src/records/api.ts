// HTTP calls of the records screens: search by type, the customer timeline, "log to ERP",
// and opening a record's room. Same conventions as ../api.ts (session cookie + CSRF token).

import { ApiError, readCookie } from "../api";
import type { Card } from "../crm/cardLogic";
import type { TimelineEntry } from "./timeline";

async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method === "POST") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = readCookie("csrftoken");
  }
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data?.error?.code ?? "http_error", data?.error?.message ?? response.statusText);
  return data as T;
}

export interface RecordId {
  source_id: number;
  record_type: string;
  key: string;
}

export interface RoomOut {
  conversation_id: number;
  name: string;
  created: boolean;
  shared_with: string[];
}

export const recordsApi = {
  search: (workspaceId: number, type: string, q: string) =>
    call<{ cards: Card[] }>(
      "GET",
      `/records/search?${new URLSearchParams({ workspace: String(workspaceId), type, q, limit: "30" })}`,
    ),
  card: (record: RecordId) =>
    call<Card>(
      "GET",
      `/records/card?${new URLSearchParams({ source_id: String(record.source_id), type: record.record_type, key: record.key })}`,
    ),
  timeline: (record: RecordId, before: number | null) => {
    const query = new URLSearchParams({ source_id: String(record.source_id), record_type: record.record_type, key: record.key });
    if (before !== null) query.set("before", String(before));
    return call<{ entries: TimelineEntry[]; next_before: number | null }>("GET", `/records/timeline?${query}`);
  },
  log: (record: RecordId, messageIds: number[]) =>
    call<{ logged: number; note: string }>("POST", "/records/log", { ...record, message_ids: messageIds }),
  openRoom: (record: RecordId) => call<RoomOut>("POST", "/records/rooms", record),
};
