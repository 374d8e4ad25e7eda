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
  mergeReplies,
  newConv,
  receiveAck,
  receiveEvent,
  receiveEvents,
  setPendingState,
  type ConvState,
} from "./store";
import type { Attachment, ConversationSummary, HubEvent, Me, Message, PendingMessage, Person, SearchResult } from "./types";
import { handleCrmEvent } from "./crm/cardStore";
import { handleCommandReply } from "./crm/lateReplies";

export const PAGE_SIZE = 50;
/** A jump to a message further back than this many seqs loads a window around it instead of
 * paging back to it (200 pages for message #37 of 10,000). */
export const JUMP_PAGE_BACK_MAX = 300;
export const SEARCH_PAGE = 20;
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
  search: SearchState | null;
  /** A message to bring into view and flash (jump from search, pins, links). */
  highlight: { conversationId: number; seq: number } | null;
  /** The side panel next to the open conversation (a full-screen pane on a phone). */
  panel: Panel | null;
  /** thread root id → the thread as loaded and kept live. */
  threads: Record<number, ThreadState>;
  /** conversation id → participants with guest flags (member panel, badges, @ list). */
  members: Record<number, Person[]>;
  /** conversation id → partner companies it is shared with (header of a shared channel). */
  partners: Record<number, { id: number; name: string }[]>;
  /** conversation id → bumped on every pin.changed (the pins panel refetches). */
  pinVersion: Record<number, number>;
  /** message ids the person saved (starred) in this workspace; null until loaded. */
  savedIds: Record<number, boolean> | null;
  /** The message being forwarded (the picker dialog is open). */
  forwarding: Message | null;
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
  is_external?: boolean;
}

export type SearchOrder = "newest" | "relevance";

export interface SearchState {
  q: string;
  order: SearchOrder;
  page: number;
  status: "loading" | "ready" | "error";
  results: SearchResult[];
  total: number;
  totalExact?: boolean;
  error?: string;
}

export type Panel =
  | { kind: "thread"; conversationId: number; rootId: number }
  | { kind: "pins"; conversationId: number }
  | { kind: "members"; conversationId: number }
  | { kind: "saved" };

export interface ThreadState {
  conversationId: number;
  root: Message | null;
  replies: Message[];
  following: boolean;
  status: "loading" | "ready" | "error";
  hasMore: boolean;
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
  /** A link to one message: `/app/w/<ws>/c/<conv>/m/<message id>/`. */
  messageId?: number | null;
}

export function parseRoute(pathname: string): Route {
  // /d/… are the documents screens (docs/route.ts), /r/… the records (records/route.ts) and
  // /admin/… the admin screens (admin/route.ts); the workspace part is ours.
  const match = /^\/app\/w\/(\d+)(?:\/c\/(\d+)(?:\/m\/(\d+))?|\/d(?:\/\d+)?|\/r(?:\/[^/]+){0,3}|\/admin(?:\/[^/]+){0,2})?\/?$/.exec(
    pathname,
  );
  if (!match) return { workspaceId: null, conversationId: null };
  return {
    workspaceId: Number(match[1]),
    conversationId: match[2] ? Number(match[2]) : null,
    ...(match[3] ? { messageId: Number(match[3]) } : {}),
  };
}

export function routePath(route: Route): string {
  if (route.workspaceId === null) return "/";
  if (route.conversationId === null) return `/app/w/${route.workspaceId}/`;
  const base = `/app/w/${route.workspaceId}/c/${route.conversationId}/`;
  return route.messageId ? `${base}m/${route.messageId}/` : base;
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
      panel: null,
      threads: {},
      members: {},
      partners: {},
      pinVersion: {},
      savedIds: null,
      forwarding: null,
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
      this.set({ workspaceId, activeId: null, conversations: [], savedIds: null, panel: null });
      if (workspaceId !== null) {
        localStorage.setItem(WS_KEY, String(workspaceId));
        await this.loadConversations();
        if (token !== this.routeToken) return;
      }
    }
    this.openConversation(route.workspaceId === workspaceId ? route.conversationId : null);
    if (route.messageId && route.conversationId && route.workspaceId === workspaceId) {
      void this.openMessageLink(route.conversationId, route.messageId);
    }
  }

  /** A message link: its thread when it is a reply, else the timeline at the message. */
  private async openMessageLink(conversationId: number, messageId: number): Promise<void> {
    try {
      const message = await api.message(messageId);
      await this.jumpTo(conversationId, message.seq, { keepRoute: true });
      if (message.thread_root_id) this.openThread(conversationId, message.thread_root_id);
    } catch {
      // Gone or no longer readable: the conversation (if readable) stays open at the latest.
    }
  }

  /** The address of a message, to copy and share. */
  messageLink(conversationId: number, messageId: number): string {
    return location.origin + routePath({ workspaceId: this.state.workspaceId, conversationId, messageId });
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
            // Kept for the guest badges (sidebar, rows); the member panel refreshes it.
            members: { ...this.state.members, [c.id]: members },
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
    const panel = this.state.panel;
    const keepPanel = panel && (panel.kind === "saved" || panel.conversationId === id);
    this.set({ activeId: id, panel: keepPanel ? panel : null });
    if (id === null) return;
    void this.loadMembers(id);
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

  /** Leave a jump window for the newest page (the "jump to latest" button). */
  async jumpToLatest(id: number): Promise<void> {
    const page = await api.messages(id, { limit: PAGE_SIZE });
    this.setConv(mergeHistory(this.state.convs[id], page.messages, { hasMoreBefore: Boolean(page.has_more), older: false, replace: true }));
    this.atBottom = true;
    this.scheduleMarkRead();
  }

  /** The next page after a jump window, towards the newest message. */
  async loadNewer(id: number): Promise<void> {
    const conv = this.state.convs[id];
    if (!conv || !conv.hasMoreAfter || this.state.loadingOlder[id]) return;
    const newest = conv.messages[conv.messages.length - 1]?.seq;
    if (newest === undefined) return;
    this.set({ loadingOlder: { ...this.state.loadingOlder, [id]: true } });
    try {
      const page = await api.messages(id, { after: newest, limit: PAGE_SIZE });
      this.setConv(mergeHistory(this.state.convs[id], page.messages, { older: false, hasMoreAfter: Boolean(page.has_more) }));
    } finally {
      this.set({ loadingOlder: { ...this.state.loadingOlder, [id]: false } });
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

  async setPinned(messageId: number, pinned: boolean): Promise<void> {
    await api.pin(messageId, pinned);
  }

  async setSaved(messageId: number, saved: boolean): Promise<void> {
    await api.save(messageId, saved);
    this.set({ savedIds: { ...(this.state.savedIds ?? {}), [messageId]: saved } });
  }

  /** The saved list of this workspace (also fills `savedIds` for the menus' Save/Unsave). */
  async loadSaved(): Promise<{ message: Message; saved_at: string }[]> {
    const workspaceId = this.state.workspaceId;
    if (workspaceId === null) return [];
    const { saved } = await api.saved(workspaceId);
    this.set({ savedIds: Object.fromEntries(saved.map((s) => [s.message.id, true])) });
    return saved;
  }

  startForward(message: Message | null): void {
    this.set({ forwarding: message });
  }

  /** Quote a message into another conversation (the server keeps `forwarded_from_id`). */
  async forward(messageId: number, targetId: number, comment: string): Promise<Message> {
    return api.forward(messageId, { conversation_id: targetId, client_id: newClientId(), comment: comment.trim() });
  }

  // --- side panel and threads -----------------------------------------------------------

  openPanel(panel: Panel | null): void {
    this.set({ panel });
  }

  openThread(conversationId: number, rootId: number): void {
    this.set({ panel: { kind: "thread", conversationId, rootId } });
    void this.loadThread(conversationId, rootId);
  }

  private setThread(rootId: number, patch: (t: ThreadState | undefined) => ThreadState | undefined): void {
    const next = patch(this.state.threads[rootId]);
    if (next && next !== this.state.threads[rootId]) this.set({ threads: { ...this.state.threads, [rootId]: next } });
  }

  async loadThread(conversationId: number, rootId: number): Promise<void> {
    this.setThread(rootId, (t) =>
      t ? { ...t, status: t.root ? t.status : "loading" } : { conversationId, root: null, replies: [], following: false, status: "loading", hasMore: false },
    );
    try {
      let after: number | undefined;
      for (let round = 0; round < 20; round++) {
        const page = await api.thread(rootId, after);
        this.setThread(rootId, (t) => ({
          conversationId,
          root: page.root,
          replies: mergeReplies(t?.replies ?? [], page.replies),
          following: page.following,
          status: "ready",
          hasMore: page.has_more,
        }));
        if (!page.has_more || !page.replies.length) break;
        after = page.replies[page.replies.length - 1].seq;
      }
    } catch {
      this.setThread(rootId, (t) => (t ? { ...t, status: "error" } : t));
    }
  }

  /** Live replies (events, acks) join an open thread; a thread not loaded is left alone. */
  private updateThread(rootId: number, replies: Message[]): void {
    this.setThread(rootId, (t) => (t ? { ...t, replies: mergeReplies(t.replies, replies) } : t));
  }

  /** Replying follows the thread on the server (unless unfollowed before): re-read the flag. */
  private afterOwnReply(reply: Message): void {
    const rootId = reply.thread_root_id!;
    this.updateThread(rootId, [reply]);
    if (!this.state.threads[rootId] || this.state.threads[rootId].following) return;
    api.thread(rootId, reply.seq).then(
      (page) => this.setThread(rootId, (t) => (t ? { ...t, following: page.following } : t)),
      () => undefined,
    );
  }

  private updateThreadRoot(root: Message): void {
    this.setThread(root.id, (t) => (t ? { ...t, root } : t));
  }

  private threadCount(event: HubEvent): void {
    const rootId = Number(event.root_id);
    this.setThread(rootId, (t) =>
      t && t.root
        ? {
            ...t,
            root: {
              ...t.root,
              reply_count: Number(event.reply_count ?? 0),
              last_reply_at: typeof event.last_reply_at === "string" ? event.last_reply_at : t.root.last_reply_at,
            },
          }
        : t,
    );
  }

  async setFollowing(rootId: number, following: boolean): Promise<void> {
    const answer = await api.follow(rootId, following);
    this.setThread(rootId, (t) => (t ? { ...t, following: answer.following } : t));
  }

  // --- members and partners -------------------------------------------------------------

  private memberLoads = new Map<number, Promise<Person[]>>();

  /** Participants with their guest flags (once per conversation until membership changes). */
  loadMembers(conversationId: number): Promise<Person[]> {
    let found = this.memberLoads.get(conversationId);
    if (!found) {
      found = (async () => {
        const { members } = await api.members(conversationId);
        const names: Record<number, string> = {};
        for (const m of members) names[m.user_id] = m.name;
        this.set({
          members: { ...this.state.members, [conversationId]: members },
          memberNames: { ...this.state.memberNames, [conversationId]: names },
        });
        const summary = this.state.conversations.find((c) => c.id === conversationId);
        if (summary?.shared_with?.length) {
          const detail = await api.conversation(conversationId);
          this.set({ partners: { ...this.state.partners, [conversationId]: detail.partners ?? [] } });
        }
        return members;
      })();
      found.catch(() => this.memberLoads.delete(conversationId));
      this.memberLoads.set(conversationId, found);
    }
    return found;
  }

  private forgetMembers(conversationId: number): void {
    this.memberLoads.delete(conversationId);
    this.mentionCache.delete(conversationId);
    if (conversationId === this.state.activeId) void this.loadMembers(conversationId).catch(() => undefined);
  }

  private mentionCache = new Map<number, Promise<MentionCandidate[]>>();

  /** People who can be @mentioned here, with the handle the server's resolver understands. */
  mentionCandidates(conversationId: number): Promise<MentionCandidate[]> {
    let found = this.mentionCache.get(conversationId);
    if (!found) {
      found = (async () => {
        const members = await this.loadMembers(conversationId);
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
            return { user_id: m.user_id, name: m.name, handle, is_external: Boolean(m.is_external) };
          });
      })();
      found.catch(() => this.mentionCache.delete(conversationId));
      this.mentionCache.set(conversationId, found);
    }
    return found;
  }

  async loadMemberNames(conversationId: number): Promise<void> {
    if (this.state.memberNames[conversationId]) return;
    await this.loadMembers(conversationId);
  }

  // --- search ---------------------------------------------------------------------------

  /** Run a search; `order` and `page` default to the current ones when the query is the same. */
  async search(q: string, opts: { order?: SearchOrder; page?: number } = {}): Promise<void> {
    const workspaceId = this.state.workspaceId;
    const query = q.trim();
    if (workspaceId === null || !query) return;
    const current = this.state.search;
    const order = opts.order ?? current?.order ?? "newest";
    const page = opts.page ?? 1;
    const keep = current && current.q === query && current.order === order && page > 1 ? current.results : [];
    const ask = { q: query, order, page };
    this.set({ search: { ...ask, status: "loading", results: keep, total: current?.total ?? 0 } });
    const same = () => {
      const now = this.state.search;
      return now !== null && now.q === query && now.order === order && now.page === page;
    };
    try {
      const found = await api.search(workspaceId, query, { order, page, limit: SEARCH_PAGE });
      if (!same()) return; // a newer search replaced this one
      const seen = new Set(keep.map((r) => r.message_id));
      const results = [...keep, ...found.results.filter((r) => !seen.has(r.message_id))];
      this.set({ search: { ...ask, status: "ready", results, total: found.total, totalExact: found.total_exact } });
    } catch (err) {
      if (!same()) return;
      const error = err instanceof ApiError ? err.message : String(err);
      this.set({ search: { ...ask, status: "error", results: keep, total: 0, error } });
    }
  }

  /** Open a search result where it was said: its thread for replies, the timeline otherwise. */
  async openResult(result: SearchResult): Promise<void> {
    await this.jumpTo(result.conversation_id, result.seq);
    if (result.thread_root_id) this.openThread(result.conversation_id, result.thread_root_id);
  }

  closeSearch(): void {
    this.set({ search: null });
  }

  /**
   * Open the conversation and bring the message into view: already loaded → just there; a few
   * pages back → page back to it (the timeline stays one piece); further → load a window of
   * messages around it (`after=seq-25`), which pages both ways from there.
   */
  async jumpTo(conversationId: number, seq: number, opts: { keepRoute?: boolean } = {}): Promise<void> {
    this.set({ search: null, highlight: { conversationId, seq } });
    this.atBottom = false;
    if (!opts.keepRoute) this.navigate({ workspaceId: this.state.workspaceId, conversationId });
    else if (this.state.activeId !== conversationId) this.openConversation(conversationId);
    for (let round = 0; round < JUMP_PAGE_BACK_MAX / PAGE_SIZE + 2; round++) {
      const conv = this.state.convs[conversationId];
      if (!conv) return;
      if (!conv.historyLoaded) {
        if (this.state.loadingOlder[conversationId]) await new Promise((resolve) => setTimeout(resolve, 100));
        else await this.loadLatest(conversationId);
        if (!this.state.convs[conversationId]?.historyLoaded) await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const oldest = conv.messages[0]?.seq ?? 0;
      const newest = conv.messages[conv.messages.length - 1]?.seq ?? 0;
      const loaded = seq >= oldest && (seq <= newest || !conv.hasMoreAfter);
      if (loaded || (seq < oldest && !conv.hasMoreBefore)) return;
      if (seq < oldest && oldest - seq <= JUMP_PAGE_BACK_MAX) {
        if (this.state.loadingOlder[conversationId]) await new Promise((resolve) => setTimeout(resolve, 100));
        else await this.loadOlder(conversationId);
        continue;
      }
      await this.loadWindow(conversationId, seq);
      return;
    }
  }

  private async loadWindow(id: number, seq: number): Promise<void> {
    const from = Math.max(0, seq - PAGE_SIZE / 2);
    const page = await api.messages(id, { after: from, limit: PAGE_SIZE });
    this.setConv(
      mergeHistory(this.state.convs[id], page.messages, {
        older: false,
        replace: true,
        hasMoreBefore: from > 0,
        hasMoreAfter: Boolean(page.has_more),
      }),
    );
  }

  clearHighlight(): void {
    if (this.state.highlight) this.set({ highlight: null });
  }

  // --- sending --------------------------------------------------------------------------

  /**
   * Send a message (in a thread when `threadRootId` is set, with uploaded files when
   * `attachments` is not empty). One path for the main composer and the thread panel's:
   * a local echo under a fresh client_id, replaced by the ack or the message.new.
   */
  send(
    conversationId: number,
    body: string,
    opts: { threadRootId?: number | null; attachments?: Attachment[] } = {},
  ): string | null {
    const text = body.trim();
    const conv = this.state.convs[conversationId];
    const attachments = opts.attachments ?? [];
    if ((!text && !attachments.length) || !conv) return null;
    const pending: PendingMessage = {
      client_id: newClientId(),
      conversation_id: conversationId,
      body: text,
      created_at: new Date().toISOString(),
      state: "sending",
      thread_root_id: opts.threadRootId ?? null,
      ...(attachments.length ? { attachments } : {}),
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
    if (pending.attachments?.length) {
      void this.transmitOverHttp(pending);
      return;
    }
    const sent = this.socket.send({
      type: "message.send",
      conversation_id: pending.conversation_id,
      client_id: pending.client_id,
      body: pending.body,
      thread_root_id: pending.thread_root_id ?? null,
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

  /** The socket frame carries no attachment ids, so a send with files is a POST (same
   * idempotent client_id; the response plays the ack's part). */
  private async transmitOverHttp(pending: PendingMessage): Promise<void> {
    try {
      const message = await api.sendMessage(pending.conversation_id, {
        body: pending.body,
        client_id: pending.client_id,
        thread_root_id: pending.thread_root_id ?? null,
        attachment_ids: (pending.attachments ?? []).map((a) => a.id),
      });
      const conv = this.state.convs[pending.conversation_id];
      if (conv) this.setConv(receiveAck(conv, pending.client_id, message));
      if (message.thread_root_id) this.afterOwnReply(message);
    } catch (err) {
      const conv = this.state.convs[pending.conversation_id];
      const error = err instanceof Error ? err.message : String(err);
      if (conv) this.setConv(setPendingState(conv, pending.client_id, "failed", error));
    }
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
      if (message?.thread_root_id) this.afterOwnReply(message);
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
    if (type === "command.reply") {
      // An external slash command's late answer, for this person only (crm/lateReplies.ts).
      handleCommandReply(frame);
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
      if (event.message?.thread_root_id) this.updateThread(event.message.thread_root_id, [event.message]);
      if (event.message && this.state.threads[event.message.id]) this.updateThreadRoot(event.message);
      if (event.type === "thread.updated" && typeof event.root_id === "number") this.threadCount(event);
      if (event.type === "pin.changed") this.set({ pinVersion: { ...this.state.pinVersion, [id]: (this.state.pinVersion[id] ?? 0) + 1 } });
      if (event.type === "message.new" && event.message) this.clearTyping(id, event.message.sender_id);
      if (event.type === "record.cards" || event.type === "record.updated") handleCrmEvent(event, this.state.workspaceId);
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
      if (event.type.startsWith("member.") || event.type.startsWith("conversation.")) this.forgetMembers(id);
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
    // A jump window ends before the newest message: its bottom is not "read up to now".
    if (!conv || !conv.historyLoaded || conv.hasMoreAfter) return;
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
