// HTTP calls of the records screens: search by type, the customer timeline, "log to ERP",
// and opening a record's room. Same conventions as ../api.ts (session cookie + CSRF token).

import { apiRequest } from "../api";
import type { Card } from "../crm/cardLogic";
import type { TimelineEntry } from "./timeline";

// One helper for every module (../api.ts): the same headers, errors and sign-in redirect.
const call = apiRequest;

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
