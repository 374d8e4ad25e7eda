// Pure rules of the customer timeline screen (no React, no fetch): appending older pages
// without duplicates, and the choice of messages to log to the ERP. Unit-tested.

export interface TimelineRecord {
  record_type: string;
  key: string;
  number: string;
}

/** One entry of GET /api/v1/records/timeline (crm_bridge/rooms_api.py, TimelineEntry). */
export interface TimelineEntry {
  message_id: number;
  conversation_id: number;
  conversation_name: string;
  seq: number;
  sender_name: string;
  sender_is_bot: boolean;
  text: string;
  created_at: string;
  via: "room" | "reference" | string;
  records: TimelineRecord[];
}

/** The server takes at most this many messages in one "log to ERP" (timeline.MAX_LOGGED_MESSAGES). */
export const MAX_LOGGED = 50;

/** Older page appended after the loaded ones. A message edited into a reference between two
 *  page loads could come back on the next page; it keeps its first place. */
export function appendPage(loaded: TimelineEntry[], page: TimelineEntry[]): TimelineEntry[] {
  const seen = new Set(loaded.map((e) => e.message_id));
  return [...loaded, ...page.filter((e) => !seen.has(e.message_id))];
}

/** Toggle one message in the selection; refused (same set back) past the server's limit. */
export function toggleChosen(chosen: ReadonlySet<number>, messageId: number): ReadonlySet<number> {
  const next = new Set(chosen);
  if (next.has(messageId)) next.delete(messageId);
  else if (next.size < MAX_LOGGED) next.add(messageId);
  else return chosen;
  return next;
}

/** The chosen ids in timeline order, for a stable request body. */
export function chosenInOrder(entries: TimelineEntry[], chosen: ReadonlySet<number>): number[] {
  return entries.filter((e) => chosen.has(e.message_id)).map((e) => e.message_id);
}
