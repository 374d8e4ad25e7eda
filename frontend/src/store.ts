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
  /**
   * True while the loaded messages are a window that does not reach the newest message (after
   * a jump to an old message). Live messages beyond the window are not kept then — the window
   * stays contiguous — and come with the next "newer" page or the jump back to the latest.
   */
  hasMoreAfter: boolean;
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
    hasMoreAfter: false,
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

/**
 * Whether a message event may be stored: the loaded messages are one contiguous range of
 * seqs (history pages extend it at either end), so a message outside it — an edit of an old
 * message never loaded, a new one while a jump window is open — would leave a hole that the
 * paging cursor skips. The page that later covers it brings its current version.
 */
export function inLoadedRange(conv: ConvState, seq: number): boolean {
  const { messages } = conv;
  if (!messages.length) return !conv.hasMoreAfter;
  if (conv.hasMoreBefore && conv.historyLoaded && seq < messages[0].seq) return false;
  if (conv.hasMoreAfter && seq > messages[messages.length - 1].seq) return false;
  return true;
}

/** Apply one in-order event to the conversation (the cursor is moved by the caller). */
function applyOne(conv: ConvState, event: HubEvent): ConvState {
  let { messages, pending, touched } = conv;
  switch (event.type) {
    case "message.new":
    case "message.edited":
    case "message.deleted":
    case "message.updated": // a bot's card changed (blocks replaced; not an edit)
      if (event.message) {
        if (inLoadedRange(conv, event.message.seq) || messages.some((m) => m.id === event.message!.id))
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
        messages = patchMessage(messages, event.root_id, {
          reply_count: Number(event.reply_count ?? 0),
          last_reply_at: typeof event.last_reply_at === "string" ? event.last_reply_at : null,
        });
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
  opts: { hasMoreBefore?: boolean; older: boolean; hasMoreAfter?: boolean; replace?: boolean },
): ConvState {
  if (opts.replace) {
    // A jump window (or the jump back to the latest page): start a new contiguous range.
    const fresh: ConvState = { ...conv, messages: [], historyLoaded: false, hasMoreAfter: false };
    const merged = mergeHistory(fresh, page, { hasMoreBefore: opts.hasMoreBefore, older: false });
    return { ...merged, hasMoreAfter: Boolean(opts.hasMoreAfter) };
  }
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
  const hasMoreAfter = opts.hasMoreAfter !== undefined ? opts.hasMoreAfter : conv.hasMoreAfter;
  return { ...conv, messages, pending, historyLoaded: true, hasMoreBefore, hasMoreAfter };
}

/** The server acknowledged our send: show the stored message, drop the local echo. */
export function receiveAck(conv: ConvState, clientId: string, message: Message | undefined): ConvState {
  const pending = dropPending(conv.pending, clientId);
  const keep = message && (inLoadedRange(conv, message.seq) || conv.messages.some((m) => m.id === message.id));
  const messages = keep ? upsertMessage(conv.messages, message) : conv.messages;
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

/** Local echoes for the main timeline, or for one thread's panel. */
export function pendingFor(conv: ConvState, threadRootId: number | null): PendingMessage[] {
  return conv.pending.filter((p) => (p.thread_root_id ?? null) === threadRootId);
}

/** True when `a` is a later state of the same message than `b` (deletion and edits only move forward). */
function newerThan(a: Message, b: Message): boolean {
  if (a.deleted !== b.deleted) return Boolean(a.deleted);
  return (a.edited_at ?? "") > (b.edited_at ?? "") || (a.reply_count ?? 0) > (b.reply_count ?? 0);
}

/**
 * Replies of one thread, keyed by id and ordered by seq: a page from `/thread` merged with
 * live `message.*` events. Either may arrive first, so an incoming copy never replaces a
 * later state of the same message (a page read just before an edit, answered after it).
 */
export function mergeReplies(replies: Message[], incoming: Message[]): Message[] {
  let next = replies;
  for (const message of incoming) {
    const existing = next.find((m) => m.id === message.id);
    if (existing && newerThan(existing, message)) continue;
    next = upsertMessage(next, message);
  }
  return next;
}

export function latestSeq(conv: ConvState): number {
  const last = conv.messages.length ? conv.messages[conv.messages.length - 1].seq : 0;
  return Math.max(last, conv.appliedSeq);
}
