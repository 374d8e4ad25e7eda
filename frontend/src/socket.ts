// One multiplexed WebSocket to /ws/ that keeps itself connected: exponential back-off with
// jitter (0.5 s doubling to 30 s), an immediate retry when the browser comes back online or
// the tab becomes visible, and a `ping` heartbeat (the server also uses it to heal a lost
// last event). A socket that stays silent for too long is treated as dead and replaced —
// a phone walking out of Wi-Fi often leaves a half-open TCP connection that never closes.
// The server's `sync` replay makes every reconnect exact, so a drop never loses anything.

export type SocketStatus = "connecting" | "open" | "closed";

export interface SocketHandlers {
  onOpen(): void;
  onFrame(frame: Record<string, unknown>): void;
  onStatus(status: SocketStatus): void;
  /** The server refused the credentials (close code 4401): reconnecting will not help. */
  onUnauthenticated?(): void;
}

export const CLOSE_UNAUTHENTICATED = 4401;

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 30_000;
export const HEARTBEAT_MS = 25_000;

/** Delay before reconnect attempt `attempt` (0-based): base·2^attempt capped, times 0.5–1. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling * (0.5 + random() / 2));
}

export function socketUrl(loc: Location = window.location): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/ws/`;
}

export class HubSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private lastFrameAt = 0;
  heartbeatMs = HEARTBEAT_MS;
  status: SocketStatus = "closed";

  constructor(
    private url: string,
    private handlers: SocketHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    window.addEventListener("online", this.reconnectNow);
    document.addEventListener("visibilitychange", this.onVisible);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.reconnectNow);
    document.removeEventListener("visibilitychange", this.onVisible);
    if (this.timer) clearTimeout(this.timer);
    this.stopHeartbeat();
    this.ws?.close();
    this.ws = null;
  }

  /** Sends a frame if the socket is open; false means "not sent, keep it queued". */
  send(frame: Record<string, unknown>): boolean {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** Drop the current connection (as a network cut would); the back-off loop reconnects. */
  drop(): void {
    const ws = this.ws;
    if (!ws) return;
    // Forget it at once: a half-open socket may take minutes to report its close.
    this.ws = null;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    ws.close();
    this.stopHeartbeat();
    this.setStatus("closed");
    this.schedule();
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.lastFrameAt = Date.now();
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastFrameAt > 2 * this.heartbeatMs + 10_000) {
        this.drop(); // no frame, not even a pong, for two beats: the connection is dead
        return;
      }
      this.send({ type: "ping", t: Date.now() });
    }, this.heartbeatMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private setStatus(status: SocketStatus): void {
    this.status = status;
    this.handlers.onStatus(status);
  }

  private connect = (): void => {
    if (this.stopped) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.setStatus("connecting");
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.startHeartbeat();
      this.setStatus("open");
      this.handlers.onOpen();
    };
    ws.onmessage = (event) => {
      if (this.ws !== ws || typeof event.data !== "string") return;
      this.lastFrameAt = Date.now();
      let frame: unknown;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame === "object") this.handlers.onFrame(frame as Record<string, unknown>);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      this.setStatus("closed");
      if (event.code === CLOSE_UNAUTHENTICATED && this.handlers.onUnauthenticated) {
        this.stopped = true;
        this.handlers.onUnauthenticated();
        return;
      }
      this.schedule();
    };
    ws.onerror = () => {
      // onclose follows and schedules the retry
    };
  };

  private schedule(): void {
    if (this.stopped || this.timer) return;
    const delay = backoffDelay(this.attempt++);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private reconnectNow = (): void => {
    if (this.stopped || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    this.attempt = 0;
    this.connect();
  };

  private onVisible = (): void => {
    if (document.visibilityState === "visible") this.reconnectNow();
  };
}
