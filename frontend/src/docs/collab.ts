// The Yjs side of one open document: the shared Y.Doc, its IndexedDB copy (edits made offline
// survive a closed tab and sync on reconnect), the y-websocket provider on /ws/docs/<id>/, and
// the status the page shows. Nothing here knows about the editor.

import * as Y from "yjs";
import { IndexeddbPersistence } from "y-indexeddb";
import { WebsocketProvider, messageAuth } from "y-websocket";
import * as authProtocol from "y-protocols/auth";

export type SyncStatus = "connecting" | "saving" | "saved" | "offline";

/** Why the server closed the socket for good (docs/documents.md close codes). */
export type Ended = "reload" | "access" | "not_found" | null;

/** What the server said in an auth message: read_only / editor_limit / reload. */
export type Notice = "read_only" | "editor_limit" | null;

export interface CollabUser {
  id: number;
  name: string;
  color: string;
}

const COLORS = ["#0b6bcb", "#c2410c", "#15803d", "#7e22ce", "#be123c", "#0f766e", "#a16207", "#4338ca"];

export function colorFor(userId: number): string {
  return COLORS[Math.abs(userId) % COLORS.length];
}

export function socketBase(): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/docs`;
}

export class DocSession {
  readonly ydoc = new Y.Doc();
  readonly provider: WebsocketProvider;
  readonly local: IndexeddbPersistence;
  status: SyncStatus = "connecting";
  notice: Notice = null;
  ended: Ended = null;
  private listeners = new Set<() => void>();
  private savingTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly onOffline = () => {
    // Stop the socket outright rather than let it half-work: edits go to IndexedDB and the
    // Y.Doc, and the reconnect's sync step sends exactly what the server lacks.
    this.provider.disconnect();
    this.setStatus("offline");
  };
  private readonly onOnline = () => {
    if (this.ended === null) this.provider.connect();
    this.setStatus("connecting");
  };

  constructor(documentId: number, epoch: number) {
    this.local = new IndexeddbPersistence(`hub-doc-${documentId}`, this.ydoc);
    this.provider = new WebsocketProvider(socketBase(), `${documentId}/`, this.ydoc, {
      params: { epoch: String(epoch) },
      connect: typeof navigator === "undefined" || navigator.onLine,
    });
    // The server's auth messages say why edits are refused (viewer, editor limit) or that the
    // document was restored; y-websocket's own handler only logs them.
    this.provider.messageHandlers[messageAuth] = (_encoder, decoder) => {
      authProtocol.readAuthMessage(decoder, this.ydoc, (_doc, reason) => this.onDenied(reason));
    };
    this.provider.on("status", ({ status }) => {
      // Each connection starts afresh: the server repeats "read only" on connect if it still
      // applies (and closes with 4100 when someone is allowed to edit again).
      if (status !== "connected" && this.notice !== null) this.notice = null;
      if (status === "connected") this.setStatus(this.provider.synced ? "saved" : "connecting");
      else this.setStatus(navigator.onLine ? "connecting" : "offline");
    });
    this.provider.on("sync", (synced: boolean) => {
      if (synced) this.setStatus("saved");
    });
    this.provider.on("closed", ({ code }) => {
      this.ended = code === 4409 ? "reload" : code === 4404 || code === 4401 ? "not_found" : "access";
      this.emit();
    });
    this.ydoc.on("update", (_update: Uint8Array, origin: unknown) => {
      if (origin === this.provider || origin === this.local) return; // not a local edit
      this.markSaving();
    });
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("online", this.onOnline);
    if (!navigator.onLine) this.status = "offline";
  }

  private onDenied(reason: string): void {
    if (reason.startsWith("editor_limit")) this.notice = "editor_limit";
    else if (reason.startsWith("read_only")) this.notice = "read_only";
    this.emit();
  }

  private markSaving(): void {
    if (this.status !== "saved" && this.status !== "saving") return; // offline/connecting say more
    this.setStatus("saving");
    if (this.savingTimer !== null) clearTimeout(this.savingTimer);
    // y-websocket has no acknowledgement: the edit is with the server once the socket's
    // buffer has drained (the server persists it within its flush interval).
    const check = () => {
      const ws = this.provider.ws;
      if (ws && ws.readyState === WebSocket.OPEN && ws.bufferedAmount === 0 && this.provider.synced) {
        this.setStatus("saved");
        this.savingTimer = null;
      } else {
        this.savingTimer = setTimeout(check, 300);
      }
    };
    this.savingTimer = setTimeout(check, 300);
  }

  private setStatus(status: SyncStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.emit();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  destroy(): void {
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("online", this.onOnline);
    if (this.savingTimer !== null) clearTimeout(this.savingTimer);
    this.provider.destroy();
    void this.local.destroy();
    this.ydoc.destroy();
    this.listeners.clear();
  }
}
