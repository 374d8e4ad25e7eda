// The app's engine: owns the state, the socket and the HTTP calls, and applies every change
// through the pure rules in store.ts. Components read it with useSyncExternalStore.
//
// Guarantees (see docs/webapp.md):
// * no loss — every (re)connect sends `sync` with each conversation's cursor, a seq gap
//   triggers `/events?after_seq=`, and unacknowledged sends are re-sent with the same
//   client_id after each reconnect;
// * no duplicates — events at or below the cursor are ignored, messages are keyed by id,
//   local echoes by client_id, and the server makes (sender, client_id) unique.

import { api, ApiError } from "./api";
import type { Lang } from "./i18n";
import { saveLang } from "./i18n";
import { HubSocket, socketUrl, type SocketStatus } from "./socket";
import {
  addPending,
  discardPending,
  latestSeq,
  mergeHistory,
  newConv,
  receiveAck,
  receiveEvent,
  receiveEvents,
  setPendingState,
  type ConvState,
} from "./store";
import type { ConversationSummary, HubEvent, Me, Message, PendingMessage, SearchResult } from "./types";

export const PAGE_SIZE = 50;
export const ACK_TIMEOUT_MS = 15_000;
/** The server relays typing at most every 3 s per person; show it a little longer than that. */
export const TYPING_SHOW_MS = 6_000;
export const TYPING_SEND_EVERY_MS = 3_000;
const WS_KEY = "hub.workspace";

export interface AppState {
  me: Me;
  lang: Lang;
  workspaceId: number | null;
  conversations: ConversationSummary[];
  listStatus: "idle" | "loading" | "ready" | "error";
  convs: Record<number, ConvState>;
  activeId: number | null;
  socket: SocketStatus;
  browserOnline: boolean;
  loadingOlder: Record<number, boolean>;
  historyError: Record<number, boolean>;
  notifications: NotificationPermission | "unsupported";
  /** conversation id → bumped on every read.updated frame (receipts refetch on change). */
  readVersion: Record<number, number>;
  /** conversation id → user id → name (participants), loaded on demand for receipts. */
  memberNames: Record<number, Record<number, string>>;
  search: { q: string; status: "loading" | "ready" | "error"; results: SearchResult[]; total: number; error?: string } | null;
  /** A message to bring into view and flash (jump from search). */
  highlight: { conversationId: number; seq: number } | null;
  /** conversation id → the other people's names, for DMs and groups without a name. */
  people: Record<number, string[]>;
  /** conversation id → the other people's ids (same conversations as `people`). */
  peopleIds: Record<number, number[]>;
  /** user id → aggregate status over their devices (staff only; from presence frames). */
  presence: Record<number, "online" | "away" | "offline">;
  /** conversation id → user id → {name, until (ms epoch)}: who is typing right now. */
  typing: Record<number, Record<number, { name: string; until: number }>>;
}

export interface MentionCandidate {
  user_id: number;
  name: string;
  handle: string;
}

export function newClientId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  // randomUUID exists only in secure contexts; a hub served over plain http on a LAN address
  // still has getRandomValues.
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface Route {
  workspaceId: number | null;
  conversationId: number | null;
}

export function parseRoute(pathname: string): Route {
  const match = /^\/app\/w\/(\d+)(?:\/c\/(\d+))?\/?$/.exec(pathname);
  if (!match) return { workspaceId: null, conversationId: null };
  return { workspaceId: Number(match[1]), conversationId: match[2] ? Number(match[2]) : null };
}

export function routePath(route: Route): string {
  if (route.workspaceId === null) return "/";
  return route.conversationId === null
    ? `/app/w/${route.workspaceId}/`
    : `/app/w/${route.workspaceId}/c/${route.conversationId}/`;
}

export class HubClient {
  state: AppState;
  socket: HubSocket;
  private listeners = new Set<() => void>();
  private ackTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private gapFetches = new Set<number>();
  private readSent: Record<number, number> = {};
  private readTimer: ReturnType<typeof setTimeout> | null = null;
  private listRefresh: ReturnType<typeof setTimeout> | null = null;
  private wantedId: number | null = null;
  private typingSentAt: Record<number, number> = {};
  private typingSweep: ReturnType<typeof setTimeout> | null = null;
  private routeToken = 0;
  /** Set by the timeline: true while the newest message is in view. */
  atBottom = true;

  constructor(me: Me, lang: Lang) {
    this.state = {
      me,
      lang,
      workspaceId: null,
      conversations: [],
      listStatus: "idle",
      convs: {},
      activeId: null,
      socket: "closed",
      browserOnline: typeof navigator === "undefined" ? true : navigator.onLine,
      loadingOlder: {},
      historyError: {},
      typing: {},
      people: {},
      peopleIds: {},
      presence: {},
      notifications: typeof Notification === "undefined" ? "unsupported" : Notification.permission,
      search: null,
      highlight: null,
      readVersion: {},
      memberNames: {},
    };
    this.socket = new HubSocket(socketUrl(), {
      onOpen: () => this.onOpen(),
      onFrame: (frame) => this.onFrame(frame),
      onStatus: (status) => this.onSocketStatus(status),
      onUnauthenticated: () => {
        window.location.href = `/accounts/login/?next=${encodeURIComponent(location.pathname)}`;
      },
    });
  }

  // --- store plumbing -------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): AppState => this.state;

  private set(patch: Partial<AppState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  private setConv(conv: ConvState): void {
    this.set({ convs: { ...this.state.convs, [conv.id]: conv } });
  }

  private patchSummary(id: number, patch: (c: ConversationSummary) => Partial<ConversationSummary>): void {
    if (!this.state.conversations.some((c) => c.id === id)) return;
    this.set({ conversations: this.state.conversations.map((c) => (c.id === id ? { ...c, ...patch(c) } : c)) });
  }

  // --- lifecycle ------------------------------------------------------------------------

  start(): void {
    window.addEventListener("popstate", () => void this.applyRoute(parseRoute(location.pathname), false));
    window.addEventListener("online", () => this.set({ browserOnline: true }));
    window.addEventListener("offline", () => this.set({ browserOnline: false }));
    document.addEventListener("visibilitychange", () => {
      this.scheduleMarkRead();
      this.socket.send({ type: "presence.set", status: document.visibilityState === "visible" ? "online" : "away" });
    });
    window.addEventListener("focus", () => this.scheduleMarkRead());
    this.socket.start();
    void this.applyRoute(parseRoute(location.pathname), true);
  }

  setLang(lang: Lang): void {
    saveLang(lang);
    document.documentElement.lang = lang === "zh-CN" ? "zh-CN" : "en";
    this.set({ lang });
  }

  // --- navigation -----------------------------------------------------------------------

  navigate(route: Route): void {
    const path = routePath(route);
    if (path !== location.pathname) history.pushState(null, "", path);
    void this.applyRoute(route, false);
  }

  private async applyRoute(route: Route, initial: boolean): Promise<void> {
    // A newer navigation while this one waits for the list wins (a click during loading).
    const token = ++this.routeToken;
    const workspaces = this.state.me.workspaces;
    let workspaceId = route.workspaceId;
    if (workspaceId === null || !workspaces.some((w) => w.id === workspaceId)) {
      const remembered = Number(localStorage.getItem(WS_KEY));
      workspaceId = workspaces.some((w) => w.id === remembered) ? remembered : (workspaces[0]?.id ?? null);
      if (workspaceId !== null && initial) history.replaceState(null, "", routePath({ workspaceId, conversationId: null }));
    }
    if (workspaceId !== this.state.workspaceId) {
      this.set({ workspaceId, activeId: null, conversations: [] });
      if (workspaceId !== null) {
        localStorage.setItem(WS_KEY, String(workspaceId));
        await this.loadConversations();
        if (token !== this.routeToken) return;
      }
    }
    this.openConversation(route.workspaceId === workspaceId ? route.conversationId : null);
  }

  // --- conversations --------------------------------------------------------------------

  async loadConversations(): Promise<void> {
    const workspaceId = this.state.workspaceId;
    if (workspaceId === null) return;
    if (!this.state.conversations.length) this.set({ listStatus: "loading" });
    let list: ConversationSummary[];
    try {
      list = await api.conversations(workspaceId);
    } catch {
      if (this.state.workspaceId === workspaceId) this.set({ listStatus: "error" });
      return;
    }
    if (this.state.workspaceId !== workspaceId) return;
    const convs = { ...this.state.convs };
    const newcomers: Record<string, number> = {};
    for (const summary of list) {
      // A conversation seen for the first time starts its cursor at the list's last_seq:
      // the list is the snapshot (unread counts included), events after it come by socket.
      if (!convs[summary.id]) {
        convs[summary.id] = newConv(summary.id, summary.last_seq);
        newcomers[String(summary.id)] = summary.last_seq;
      }
    }
    // Keep what the socket already moved on (the list may be older than our cursor).
    const merged = list.map((summary) => ({ ...summary, last_seq: Math.max(summary.last_seq, convs[summary.id].appliedSeq) }));
    this.set({ conversations: merged, convs, listStatus: "ready" });
    if (this.wantedId !== null && convs[this.wantedId]) this.openConversation(this.wantedId);
    void this.loadPeople(merged);
    if (Object.keys(newcomers).length && this.state.socket === "open") this.socket.send({ type: "sync", cursors: newcomers });
  }

  /** Names for unnamed DMs and groups: the other participants (one request each, once). */
  private async loadPeople(list: ConversationSummary[]): Promise<void> {
    const wanted = list.filter((c) => !c.name && (c.kind === "dm" || c.kind === "group") && !this.state.people[c.id]);
    await Promise.all(
      wanted.map(async (c) => {
        try {
          const { members } = await api.members(c.id);
          const others = members.filter((m) => m.user_id !== this.state.me.id);
          this.set({
            people: { ...this.state.people, [c.id]: others.map((m) => m.name) },
            peopleIds: { ...this.state.peopleIds, [c.id]: others.map((m) => m.user_id) },
          });
        } catch {
          // keep the generic label
        }
      }),
    );
  }

  openConversation(id: number | null): void {
    this.wantedId = null;
    if (id !== null && !this.state.convs[id]) {
      // Asked for before the list arrived (a click during loading): open it when it does.
      if (this.state.listStatus !== "ready") this.wantedId = id;
      id = null;
    }
    this.set({ activeId: id });
    if (id === null) return;
    const conv = this.state.convs[id];
    if (!conv.historyLoaded) void this.loadLatest(id);
    this.scheduleMarkRead();
  }

  async loadLatest(id: number): Promise<void> {
    try {
      const page = await api.messages(id, { limit: PAGE_SIZE });
      const conv = this.state.convs[id];
      this.setConv(mergeHistory(conv, page.messages, { hasMoreBefore: Boolean(page.has_more), older: false }));
      this.set({ historyError: { ...this.state.historyError, [id]: false } });
      this.scheduleMarkRead();
    } catch {
      this.set({ historyError: { ...this.state.historyError, [id]: true } });
    }
  }

  async loadOlder(id: number): Promise<void> {
    const conv = this.state.convs[id];
    if (!conv || !conv.historyLoaded || !conv.hasMoreBefore || this.state.loadingOlder[id]) return;
    const oldest = conv.messages[0]?.seq;
    if (oldest === undefined) return;
    this.set({ loadingOlder: { ...this.state.loadingOlder, [id]: true } });
    try {
      const page = await api.messages(id, { before: oldest, limit: PAGE_SIZE });
      this.setConv(
        mergeHistory(this.state.convs[id], page.messages, { hasMoreBefore: Boolean(page.has_more), older: true }),
      );
    } finally {
      this.set({ loadingOlder: { ...this.state.loadingOlder, [id]: false } });
    }
  }

  /** Create a channel in the current workspace and open it. Errors are for the form to show. */
  async createChannel(name: string, isPrivate: boolean): Promise<void> {
    const workspaceId = this.state.workspaceId;
    if (workspaceId === null) return;
    const created = await api.createConversation({
      workspace_id: workspaceId,
      kind: isPrivate ? "private" : "public",
      name: name.trim(),
    });
    await this.loadConversations();
    this.navigate({ workspaceId, conversationId: created.id });
  }

  /** One person: their DM (the server returns the existing one). Several: a new group. */
  async startConversation(userIds: number[], name: string): Promise<void> {
    const workspaceId = this.state.workspaceId;
    if (workspaceId === null || !userIds.length) return;
    const created = await api.createConversation({
      workspace_id: workspaceId,
      kind: userIds.length === 1 ? "dm" : "group",
      name: userIds.length === 1 ? "" : name.trim(),
      member_ids: userIds,
    });
    await this.loadConversations();
    this.navigate({ workspaceId, conversationId: created.id });
  }

  async joinChannel(id: number): Promise<void> {
    await api.join(id);
    await this.loadConversations();
    this.navigate({ workspaceId: this.state.workspaceId, conversationId: id });
  }

  // --- message actions ------------------------------------------------------------------
  // The results arrive as logged events (reaction.changed, message.edited/deleted) like
  // everyone else's, so the state has one writer and the log's order.

  async react(messageId: number, emoji: string): Promise<void> {
    await api.react(messageId, emoji);
  }

  async editMessage(messageId: number, body: string): Promise<void> {
    await api.editMessage(messageId, body);
  }

  async deleteMessage(messageId: number): Promise<void> {
    await api.deleteMessage(messageId);
  }

  private mentionCache = new Map<number, Promise<MentionCandidate[]>>();

  /** People who can be @mentioned here, with the handle the server's resolver understands. */
  mentionCandidates(conversationId: number): Promise<MentionCandidate[]> {
    let found = this.mentionCache.get(conversationId);
    if (!found) {
      found = (async () => {
        const { members } = await api.members(conversationId);
        let emails: Record<number, string> = {};
        try {
          // The staff directory has e-mail addresses (guests may not read it: names only then).
          const directory = await api.workspaceMembers(this.state.workspaceId ?? 0);
          emails = Object.fromEntries(directory.map((d) => [d.user_id, d.email]));
        } catch {
          emails = {};
        }
        return members
          .filter((m) => m.user_id !== this.state.me.id)
          .map((m) => {
            const local = (emails[m.user_id] ?? "").split("@")[0];
            // The resolver matches a display name or an e-mail local part, up to whitespace.
            const handle = m.name && !/\s/.test(m.name) ? m.name : local || m.name.replace(/\s+/g, "");
            return { user_id: m.user_id, name: m.name, handle };
          });
      })();
      found.catch(() => this.mentionCache.delete(conversationId));
      this.mentionCache.set(conversationId, found);
    }
    return found;
  }

  async loadMemberNames(conversationId: number): Promise<void> {
    if (this.state.memberNames[conversationId]) return;
    const { members } = await api.members(conversationId);
    const names: Record<number, string> = {};
    for (const m of members) names[m.user_id] = m.name;
    this.set({ memberNames: { ...this.state.memberNames, [conversationId]: names } });
  }

  // --- search ---------------------------------------------------------------------------

  async search(q: string): Promise<void> {
    const workspaceId = this.state.workspaceId;
    const query = q.trim();
    if (workspaceId === null || !query) return;
    this.set({ search: { q: query, status: "loading", results: [], total: 0 } });
    try {
      const found = await api.search(workspaceId, query);
      if (this.state.search?.q !== query) return; // a newer search replaced this one
      this.set({ search: { q: query, status: "ready", results: found.results, total: found.total } });
    } catch (err) {
      if (this.state.search?.q !== query) return;
      const error = err instanceof ApiError ? err.message : String(err);
      this.set({ search: { q: query, status: "error", results: [], total: 0, error } });
    }
  }

  closeSearch(): void {
    this.set({ search: null });
  }

  /** Open the conversation and bring the message into view, paging back until it is loaded. */
  async jumpTo(conversationId: number, seq: number): Promise<void> {
    this.set({ search: null, highlight: { conversationId, seq } });
    this.atBottom = false;
    this.navigate({ workspaceId: this.state.workspaceId, conversationId });
    for (let round = 0; round < 200; round++) {
      const conv = this.state.convs[conversationId];
      if (!conv) return;
      if (!conv.historyLoaded) {
        await this.loadLatest(conversationId);
        if (!this.state.convs[conversationId].historyLoaded) return;
        continue;
      }
      const oldest = conv.messages[0]?.seq ?? 0;
      if (oldest <= seq || !conv.hasMoreBefore) return;
      if (this.state.loadingOlder[conversationId]) await new Promise((resolve) => setTimeout(resolve, 100));
      else await this.loadOlder(conversationId);
    }
  }

  clearHighlight(): void {
    if (this.state.highlight) this.set({ highlight: null });
  }

  // --- sending --------------------------------------------------------------------------

  send(conversationId: number, body: string): string | null {
    const text = body.trim();
    const conv = this.state.convs[conversationId];
    if (!text || !conv) return null;
    const pending: PendingMessage = {
      client_id: newClientId(),
      conversation_id: conversationId,
      body: text,
      created_at: new Date().toISOString(),
      state: "sending",
    };
    this.setConv(addPending(conv, pending));
    this.transmit(pending);
    return pending.client_id;
  }

  retry(conversationId: number, clientId: string): void {
    const conv = this.state.convs[conversationId];
    const pending = conv?.pending.find((p) => p.client_id === clientId);
    if (!pending) return;
    this.setConv(setPendingState(conv, clientId, "sending"));
    this.transmit(pending); // the same client_id: the server returns the original if it got it
  }

  discard(conversationId: number, clientId: string): void {
    const conv = this.state.convs[conversationId];
    if (conv) this.setConv(discardPending(conv, clientId));
  }

  private transmit(pending: PendingMessage): void {
    const sent = this.socket.send({
      type: "message.send",
      conversation_id: pending.conversation_id,
      client_id: pending.client_id,
      body: pending.body,
    });
    // Not sent while the socket is down: it stays "sending" and goes out after the next sync.
    if (!sent) return;
    const old = this.ackTimers.get(pending.client_id);
    if (old) clearTimeout(old);
    this.ackTimers.set(
      pending.client_id,
      setTimeout(() => {
        this.ackTimers.delete(pending.client_id);
        const conv = this.state.convs[pending.conversation_id];
        if (conv) this.setConv(setPendingState(conv, pending.client_id, "failed", "timeout"));
      }, ACK_TIMEOUT_MS),
    );
  }

  private clearAckTimer(clientId: string): void {
    const timer = this.ackTimers.get(clientId);
    if (timer) clearTimeout(timer);
    this.ackTimers.delete(clientId);
  }

  // --- socket ---------------------------------------------------------------------------

  private onSocketStatus(status: SocketStatus): void {
    if (status !== "open") {
      // Whatever was in flight is re-sent after the next sync; no timeouts while offline.
      for (const timer of this.ackTimers.values()) clearTimeout(timer);
      this.ackTimers.clear();
    }
    this.set({ socket: status });
  }

  cursors(): Record<string, number> {
    const cursors: Record<string, number> = {};
    for (const conv of Object.values(this.state.convs)) cursors[String(conv.id)] = conv.appliedSeq;
    return cursors;
  }

  private onOpen(): void {
    this.socket.send({ type: "sync", cursors: this.cursors() });
    for (const conv of Object.values(this.state.convs)) {
      for (const pending of conv.pending) if (pending.state === "sending") this.transmit(pending);
    }
    // Catch up on conversations created or joined while we were away.
    if (this.state.listStatus === "ready") void this.loadConversations();
  }

  private onFrame(frame: Record<string, unknown>): void {
    const type = String(frame.type ?? "");
    if (type === "message.ack") {
      const clientId = String(frame.client_id ?? "");
      const message = frame.message as Message | undefined;
      this.clearAckTimer(clientId);
      const convId = message?.conversation_id ?? this.findPending(clientId);
      const conv = convId !== undefined ? this.state.convs[convId] : undefined;
      if (conv) this.setConv(receiveAck(conv, clientId, message));
      return;
    }
    if (type === "error") {
      const clientId = typeof frame.client_id === "string" ? frame.client_id : null;
      if (clientId) {
        this.clearAckTimer(clientId);
        const convId = this.findPending(clientId);
        if (convId !== undefined)
          this.setConv(setPendingState(this.state.convs[convId], clientId, "failed", String(frame.message ?? frame.code ?? "")));
      }
      return;
    }
    if (type === "ready") {
      const beat = Number(frame.heartbeat_seconds);
      if (beat > 0) this.socket.heartbeatMs = beat * 1000;
      return;
    }
    if (type === "typing") {
      const convId = Number(frame.conversation_id);
      const userId = Number(frame.user_id);
      if (convId && userId && userId !== this.state.me.id) this.setTyping(convId, userId, String(frame.user_name ?? ""));
      return;
    }
    if (type === "presence.snapshot" && frame.statuses && typeof frame.statuses === "object") {
      // Everyone not listed is offline; the snapshot is per workspace, statuses are per person.
      const presence = { ...this.state.presence };
      for (const [uid, status] of Object.entries(frame.statuses as Record<string, string>)) {
        presence[Number(uid)] = status === "away" ? "away" : "online";
      }
      this.set({ presence });
      return;
    }
    if (type === "presence") {
      const userId = Number(frame.user_id);
      const status = frame.status === "online" || frame.status === "away" ? frame.status : "offline";
      if (userId) this.set({ presence: { ...this.state.presence, [userId]: status } });
      return;
    }
    if (type === "read.updated") {
      const convId = Number(frame.conversation_id);
      if (convId) this.set({ readVersion: { ...this.state.readVersion, [convId]: (this.state.readVersion[convId] ?? 0) + 1 } });
      return;
    }
    if (type === "conversation.added" || type === "conversation.removed") {
      // Access changed while connected (added to a group, channel shared or unshared).
      this.scheduleListRefresh();
      return;
    }
    if (typeof frame.conversation_id === "number" && typeof frame.seq === "number") {
      this.onEvent(frame as unknown as HubEvent);
    }
    // Ephemeral frames (typing, presence, read.updated) are for later screens.
  }

  private findPending(clientId: string): number | undefined {
    for (const conv of Object.values(this.state.convs)) {
      if (conv.pending.some((p) => p.client_id === clientId)) return conv.id;
    }
    return undefined;
  }

  private onEvent(event: HubEvent): void {
    const conv = this.state.convs[event.conversation_id];
    if (!conv) {
      // A conversation we do not know yet (new DM, just added to a group): refresh the list.
      this.scheduleListRefresh();
      return;
    }
    const result = receiveEvent(conv, event);
    if (result.conv !== conv) this.setConv(result.conv);
    this.afterApplied(conv.id, result.applied);
    if (result.gap) void this.fillGap(conv.id);
  }

  /** Fetch the missing range from the log; the store drops what we already have. */
  async fillGap(id: number): Promise<void> {
    if (this.gapFetches.has(id)) return;
    this.gapFetches.add(id);
    try {
      for (let round = 0; round < 20; round++) {
        const conv = this.state.convs[id];
        const page = await api.events(id, conv.appliedSeq);
        const events = page.events.map((e) => ({ ...e, conversation_id: id }));
        const result = receiveEvents(this.state.convs[id], events);
        this.setConv(result.conv);
        this.afterApplied(id, result.applied);
        if (!page.has_more || !result.applied.length) break;
      }
    } catch {
      // The next reconnect's sync (or the next event) tries again.
    } finally {
      this.gapFetches.delete(id);
    }
  }

  private afterApplied(id: number, applied: HubEvent[]): void {
    if (!applied.length) return;
    const me = this.state.me.id;
    const visibleHere = id === this.state.activeId && document.visibilityState === "visible";
    let unread = 0;
    let mentions = 0;
    let refresh = false;
    for (const event of applied) {
      if (event.type === "message.new" && event.message) this.clearTyping(id, event.message.sender_id);
      if (event.type === "message.new" && event.message && event.message.sender_id !== me && !event.message.deleted) {
        unread += 1;
        const mentioned = Boolean(event.message.mentions?.includes(me));
        if (mentioned) mentions += 1;
        if (!visibleHere) this.notify(id, event.message, mentioned);
      }
      if (event.type === "conversation.updated" && event.conversation) {
        const { name, topic, archived, kind } = event.conversation;
        this.patchSummary(id, () => ({
          ...(name !== undefined ? { name } : {}),
          ...(topic !== undefined ? { topic } : {}),
          ...(archived !== undefined ? { archived } : {}),
          ...(kind !== undefined ? { kind } : {}),
        }));
      }
      if ((event.type === "member.left" || event.type === "conversation.unshared") && this.touchesMe(event)) refresh = true;
    }
    const last = applied[applied.length - 1].seq;
    this.patchSummary(id, (c) => ({
      last_seq: Math.max(c.last_seq, last),
      unread_count: visibleHere ? c.unread_count : c.unread_count + unread,
      mention_count: visibleHere ? (c.mention_count ?? 0) : (c.mention_count ?? 0) + mentions,
    }));
    if (visibleHere) this.scheduleMarkRead();
    if (refresh) this.scheduleListRefresh();
  }

  private touchesMe(event: HubEvent): boolean {
    const ids = event.user_ids;
    return event.type === "conversation.unshared" || (Array.isArray(ids) && ids.includes(this.state.me.id));
  }

  private scheduleListRefresh(): void {
    if (this.listRefresh) return;
    this.listRefresh = setTimeout(() => {
      this.listRefresh = null;
      void this.loadConversations();
    }, 300);
  }

  // --- browser notifications ------------------------------------------------------------

  notificationPermission(): NotificationPermission | "unsupported" {
    return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
  }

  /** Must run from a click (browsers ignore permission requests without a user gesture). */
  async enableNotifications(): Promise<void> {
    if (typeof Notification === "undefined") return;
    this.set({ notifications: await Notification.requestPermission() });
  }

  /** A mention or a direct message, while that conversation is not in front of the person. */
  private notify(id: number, message: Message, mentioned: boolean): void {
    if (this.notificationPermission() !== "granted") return;
    const summary = this.state.conversations.find((c) => c.id === id);
    if (!summary || summary.muted) return;
    if (!mentioned && summary.kind !== "dm") return;
    // Replays after a long disconnect should not turn into a burst of old alerts.
    if (Date.now() - new Date(message.created_at).getTime() > 5 * 60_000) return;
    const place = summary.name || (this.state.people[id] ?? []).join("、");
    const title = summary.kind === "dm" ? message.sender_name || place : `${message.sender_name ?? ""} · ${place}`;
    try {
      const notification = new Notification(title, { body: message.body.slice(0, 200), tag: `conv-${id}` });
      notification.onclick = () => {
        window.focus();
        this.navigate({ workspaceId: this.state.workspaceId, conversationId: id });
        notification.close();
      };
    } catch {
      // Some mobile browsers only allow notifications from a service worker: skip there.
    }
  }

  // --- typing ---------------------------------------------------------------------------

  /** Called on every keystroke in the composer; sends at most one `typing` per 3 s. */
  notifyTyping(conversationId: number): void {
    const now = Date.now();
    if (now - (this.typingSentAt[conversationId] ?? 0) < TYPING_SEND_EVERY_MS) return;
    if (this.socket.send({ type: "typing", conversation_id: conversationId })) this.typingSentAt[conversationId] = now;
  }

  private setTyping(conversationId: number, userId: number, name: string): void {
    const current = this.state.typing[conversationId] ?? {};
    const entry = { name, until: Date.now() + TYPING_SHOW_MS };
    this.set({ typing: { ...this.state.typing, [conversationId]: { ...current, [userId]: entry } } });
    this.scheduleTypingSweep();
  }

  private clearTyping(conversationId: number, userId: number): void {
    const current = this.state.typing[conversationId];
    if (!current || !current[userId]) return;
    const next = { ...current };
    delete next[userId];
    this.set({ typing: { ...this.state.typing, [conversationId]: next } });
  }

  private scheduleTypingSweep(): void {
    if (this.typingSweep) return;
    this.typingSweep = setTimeout(() => {
      this.typingSweep = null;
      const now = Date.now();
      let left = false;
      const typing: AppState["typing"] = {};
      for (const [conv, people] of Object.entries(this.state.typing)) {
        const kept = Object.fromEntries(Object.entries(people).filter(([, p]) => p.until > now));
        typing[Number(conv)] = kept;
        if (Object.keys(kept).length) left = true;
      }
      this.set({ typing });
      if (left) this.scheduleTypingSweep();
    }, 1000);
  }

  // --- read state -----------------------------------------------------------------------

  scheduleMarkRead(): void {
    if (this.readTimer) clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => {
      this.readTimer = null;
      void this.markRead();
    }, 400);
  }

  private async markRead(): Promise<void> {
    const id = this.state.activeId;
    if (id === null || document.visibilityState !== "visible" || !this.atBottom) return;
    const conv = this.state.convs[id];
    if (!conv || !conv.historyLoaded) return;
    const seq = latestSeq(conv);
    this.patchSummary(id, () => ({ unread_count: 0, mention_count: 0, last_read_seq: seq }));
    if (seq <= (this.readSent[id] ?? -1)) return;
    this.readSent[id] = seq;
    try {
      await api.markRead(id, seq);
    } catch {
      delete this.readSent[id];
    }
  }
}
