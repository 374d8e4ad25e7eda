// The per-conversation client state and the pure rules that keep it exact:
//
// * `appliedSeq` is the cursor: every event with seq <= appliedSeq has been applied, none
//   above it. It is what the client sends in `sync` on every (re)connect, so the server
//   replays precisely what is missing.
// * An event at or below the cursor is a duplicate (a replay overlapping a live frame, a
//   refetch racing the socket) and is ignored. An event above cursor+1 means a gap: it is
//   buffered and the caller fetches `/events?after_seq=cursor`; buffered events are applied
//   the moment the gap closes, so the order is always the log's order.
// * Messages are keyed by id (and ordered by seq); a page from the HTTP history merges into
//   the same map, so the same message can never appear twice.
// * A message the person is sending lives in `pending` under its client_id until the ack or
//   the message.new event carrying that client_id arrives — whichever comes first removes the
//   local echo, the other just replaces the message by id.
//
// All functions return new objects (React state), never mutate their input.

import type { HubEvent, Message, PendingMessage } from "./types";

export interface ConvState {
  id: number;
  appliedSeq: number;
  messages: Message[];
  buffered: Record<number, HubEvent>;
  pending: PendingMessage[];
  historyLoaded: boolean;
  hasMoreBefore: boolean;
  /** message id → seq of the last logged event that changed it (edits, reactions, pins). */
  touched: Record<number, number>;
}

export function newConv(id: number, appliedSeq: number): ConvState {
  return {
    id,
    appliedSeq,
    messages: [],
    buffered: {},
    pending: [],
    historyLoaded: false,
    hasMoreBefore: true,
    touched: {},
  };
}

/** Index of the first message whose seq >= seq (binary search; messages sorted by seq). */
function lowerBound(messages: Message[], seq: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (messages[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Insert or replace by id, keeping seq order. Returns a new array. */
export function upsertMessage(messages: Message[], message: Message): Message[] {
  const existing = messages.findIndex((m) => m.id === message.id);
  const next = messages.slice();
  if (existing >= 0) {
    if (next[existing].seq === message.seq) {
      next[existing] = message;
      return next;
    }
    next.splice(existing, 1);
  }
  next.splice(lowerBound(next, message.seq), 0, message);
  return next;
}

function patchMessage(messages: Message[], id: number, patch: Partial<Message>): Message[] {
  const index = messages.findIndex((m) => m.id === id);
  if (index < 0) return messages;
  const next = messages.slice();
  next[index] = { ...next[index], ...patch };
  return next;
}

function dropPending(pending: PendingMessage[], clientId: string | undefined): PendingMessage[] {
  if (!clientId) return pending;
  return pending.some((p) => p.client_id === clientId) ? pending.filter((p) => p.client_id !== clientId) : pending;
}

/** Apply one in-order event to the conversation (the cursor is moved by the caller). */
function applyOne(conv: ConvState, event: HubEvent): ConvState {
  let { messages, pending, touched } = conv;
  switch (event.type) {
    case "message.new":
    case "message.edited":
    case "message.deleted":
      if (event.message) {
        messages = upsertMessage(messages, event.message);
        pending = dropPending(pending, event.message.client_id);
        touched = { ...touched, [event.message.id]: event.seq };
      }
      break;
    case "reaction.changed":
      if (typeof event.message_id === "number" && Array.isArray(event.reactions)) {
        messages = patchMessage(messages, event.message_id, { reactions: event.reactions });
        touched = { ...touched, [event.message_id]: event.seq };
      }
      break;
    case "pin.changed":
      if (typeof event.message_id === "number") {
        messages = patchMessage(messages, event.message_id, { pinned: Boolean(event.pinned) });
        touched = { ...touched, [event.message_id]: event.seq };
      }
      break;
    case "thread.updated":
      if (typeof event.root_id === "number") {
        messages = patchMessage(messages, event.root_id, { reply_count: Number(event.reply_count ?? 0) });
        touched = { ...touched, [event.root_id]: event.seq };
      }
      break;
    default:
      // Membership and conversation changes only move the cursor here; the caller updates
      // the sidebar from the same applied events.
      break;
  }
  return { ...conv, messages, pending, touched, appliedSeq: event.seq };
}

export interface ReceiveResult {
  conv: ConvState;
  /** Events newly applied, in seq order (duplicates and buffered ones excluded). */
  applied: HubEvent[];
  /** True when events are missing between the cursor and what arrived: fetch the range. */
  gap: boolean;
}

export function receiveEvent(conv: ConvState, event: HubEvent): ReceiveResult {
  if (!Number.isInteger(event.seq) || event.seq <= conv.appliedSeq || conv.buffered[event.seq]) {
    return { conv, applied: [], gap: false };
  }
  if (event.seq > conv.appliedSeq + 1) {
    return { conv: { ...conv, buffered: { ...conv.buffered, [event.seq]: event } }, applied: [], gap: true };
  }
  const applied: HubEvent[] = [event];
  let next = applyOne(conv, event);
  let buffered = conv.buffered;
  while (buffered[next.appliedSeq + 1]) {
    const following = buffered[next.appliedSeq + 1];
    buffered = { ...buffered };
    delete buffered[following.seq];
    next = applyOne(next, following);
    applied.push(following);
  }
  // Anything left in the buffer below the cursor is stale; anything above is still a gap.
  const remaining: Record<number, HubEvent> = {};
  let gap = false;
  for (const [key, value] of Object.entries(buffered)) {
    if (Number(key) > next.appliedSeq) {
      remaining[Number(key)] = value;
      gap = true;
    }
  }
  return { conv: { ...next, buffered: remaining }, applied, gap };
}

/** Apply a batch (e.g. a `/events` page), in any order, with the same rules. */
export function receiveEvents(conv: ConvState, events: HubEvent[]): ReceiveResult {
  const sorted = events.slice().sort((a, b) => a.seq - b.seq);
  let current = conv;
  const applied: HubEvent[] = [];
  let gap = false;
  for (const event of sorted) {
    const result = receiveEvent(current, event);
    current = result.conv;
    applied.push(...result.applied);
    gap = result.gap;
  }
  return { conv: current, applied, gap: gap || Object.keys(current.buffered).length > 0 };
}

/**
 * Merge a page of history from `GET .../messages`. A message an event already changed after
 * it was created keeps the event's version (the page may have been read before that event).
 */
export function mergeHistory(
  conv: ConvState,
  page: Message[],
  opts: { hasMoreBefore?: boolean; older: boolean },
): ConvState {
  // One pass through a map and one sort: pages can be large (and conversations long), so no
  // per-message search through the whole timeline.
  const byId = new Map<number, Message>();
  for (const message of conv.messages) byId.set(message.id, message);
  const echoed = new Set<string>();
  for (const message of page) {
    const touchedAt = conv.touched[message.id];
    if (touchedAt !== undefined && touchedAt > message.seq && byId.has(message.id)) continue;
    byId.set(message.id, message);
    if (message.client_id) echoed.add(message.client_id);
  }
  const messages = Array.from(byId.values()).sort((a, b) => a.seq - b.seq);
  const pending = echoed.size ? conv.pending.filter((p) => !echoed.has(p.client_id)) : conv.pending;
  const hasMoreBefore =
    opts.hasMoreBefore !== undefined && (opts.older || !conv.historyLoaded) ? opts.hasMoreBefore : conv.hasMoreBefore;
  return { ...conv, messages, pending, historyLoaded: true, hasMoreBefore };
}

/** The server acknowledged our send: show the stored message, drop the local echo. */
export function receiveAck(conv: ConvState, clientId: string, message: Message | undefined): ConvState {
  const pending = dropPending(conv.pending, clientId);
  const messages = message ? upsertMessage(conv.messages, message) : conv.messages;
  return { ...conv, pending, messages };
}

export function addPending(conv: ConvState, pending: PendingMessage): ConvState {
  if (conv.pending.some((p) => p.client_id === pending.client_id)) return conv;
  // The message may already be stored (a retry after a lost ack): nothing to echo then.
  if (conv.messages.some((m) => m.client_id === pending.client_id)) return conv;
  return { ...conv, pending: [...conv.pending, pending] };
}

export function setPendingState(
  conv: ConvState,
  clientId: string,
  state: PendingMessage["state"],
  error?: string,
): ConvState {
  if (!conv.pending.some((p) => p.client_id === clientId)) return conv;
  return {
    ...conv,
    pending: conv.pending.map((p) => (p.client_id === clientId ? { ...p, state, error } : p)),
  };
}

export function discardPending(conv: ConvState, clientId: string): ConvState {
  return { ...conv, pending: dropPending(conv.pending, clientId) };
}

/** Top-level messages for the main timeline (thread replies live in the thread panel). */
export function timeline(conv: ConvState): Message[] {
  return conv.messages.filter((m) => !m.thread_root_id);
}

export function latestSeq(conv: ConvState): number {
  const last = conv.messages.length ? conv.messages[conv.messages.length - 1].seq : 0;
  return Math.max(last, conv.appliedSeq);
}
