// HTTP calls to /api/v1 with the session cookie; writes carry Django's CSRF token, read from
// the `csrftoken` cookie that the app page sets (ensure_csrf_cookie).

import type { ConversationSummary, HubEvent, Me, Message, Person, SearchResult } from "./types";

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

export function readCookie(name: string, cookie: string = typeof document !== "undefined" ? document.cookie : ""): string {
  for (const part of cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

/** The one HTTP helper every feature module uses: JSON (or FormData) body, the CSRF token on
 * writes, 204 as undefined, a signed-out session sent back to the sign-in page, and errors
 * as ApiError with the server's stable code and human message. */
export async function apiRequest<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const form = typeof FormData !== "undefined" && body instanceof FormData;
  if (method !== "GET") headers["X-CSRFToken"] = readCookie("csrftoken");
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : form ? (body as FormData) : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 || (response.status === 403 && data?.error?.code === "not_authenticated")) {
    // The session ended (signed out elsewhere, expired): back to the sign-in page.
    window.location.href = `/accounts/login/?next=${encodeURIComponent(location.pathname)}`;
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.error?.code ?? "http_error", data?.error?.message ?? response.statusText);
  }
  return data as T;
}

const request = apiRequest;

export const api = {
  me: () => request<Me>("GET", "/me"),
  conversations: (workspaceId: number) =>
    request<ConversationSummary[]>("GET", `/conversations?workspace=${workspaceId}`),
  messages: (conversationId: number, params: { before?: number; after?: number; limit?: number }) => {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value));
    return request<{ messages: Message[]; has_more?: boolean }>(
      "GET",
      `/conversations/${conversationId}/messages?${query}`,
    );
  },
  events: (conversationId: number, afterSeq: number) =>
    request<{ events: HubEvent[]; last_seq?: number; has_more?: boolean }>(
      "GET",
      `/conversations/${conversationId}/events?after_seq=${afterSeq}`,
    ),
  createConversation: (body: { workspace_id: number; kind: string; name?: string; member_ids?: number[] }) =>
    request<ConversationSummary>("POST", "/conversations", body),
  join: (conversationId: number) => request<ConversationSummary>("POST", `/conversations/${conversationId}/join`),
  members: (conversationId: number) =>
    request<{ members: Person[] }>("GET", `/conversations/${conversationId}/members`),
  conversation: (conversationId: number) =>
    request<ConversationSummary & { partners?: { id: number; name: string }[] }>(
      "GET",
      `/conversations/${conversationId}`,
    ),
  search: (workspaceId: number, q: string, opts: { order?: string; page?: number; limit?: number } = {}) =>
    request<{ results: SearchResult[]; total: number; total_exact?: boolean }>(
      "GET",
      `/search?workspace=${workspaceId}&q=${encodeURIComponent(q)}&order=${opts.order ?? "newest"}` +
        `&page=${opts.page ?? 1}&limit=${opts.limit ?? 20}`,
    ),
  message: (messageId: number) => request<Message>("GET", `/messages/${messageId}`),
  sendMessage: (
    conversationId: number,
    body: { body: string; client_id: string; thread_root_id?: number | null; attachment_ids?: number[] },
  ) => request<Message>("POST", `/conversations/${conversationId}/messages`, body),
  thread: (messageId: number, after?: number) =>
    request<{ root: Message; replies: Message[]; has_more: boolean; following: boolean }>(
      "GET",
      `/messages/${messageId}/thread?limit=200${after !== undefined ? `&after=${after}` : ""}`,
    ),
  follow: (messageId: number, on: boolean) =>
    request<{ following: boolean }>(on ? "POST" : "DELETE", `/messages/${messageId}/follow`),
  pin: (messageId: number, on: boolean) => request<Message>(on ? "POST" : "DELETE", `/messages/${messageId}/pin`),
  pins: (conversationId: number) =>
    request<{ pins: { message: Message; pinned_by: number; pinned_at: string }[] }>(
      "GET",
      `/conversations/${conversationId}/pins`,
    ),
  save: (messageId: number, on: boolean) => request<{ ok: boolean }>(on ? "POST" : "DELETE", `/messages/${messageId}/save`),
  saved: (workspaceId: number) =>
    request<{ saved: { message: Message; saved_at: string }[] }>("GET", `/saved?workspace=${workspaceId}`),
  forward: (messageId: number, body: { conversation_id: number; client_id: string; comment: string }) =>
    request<Message>("POST", `/messages/${messageId}/forward`, body),
  react: (messageId: number, emoji: string) =>
    request<{ added: boolean }>("POST", `/messages/${messageId}/reactions`, { emoji }),
  editMessage: (messageId: number, body: string) => request<Message>("PATCH", `/messages/${messageId}`, { body }),
  deleteMessage: (messageId: number) => request<Message>("DELETE", `/messages/${messageId}`),
  workspaceMembers: (workspaceId: number) =>
    request<{ user_id: number; display_name: string; email: string; role: string; is_active: boolean }[]>(
      "GET",
      `/workspaces/${workspaceId}/members`,
    ),
  receipts: (messageId: number) =>
    request<{ read: number[]; unread: number[]; read_count?: number; total?: number }>(
      "GET",
      `/messages/${messageId}/receipts`,
    ),
  markRead: (conversationId: number, seq: number) =>
    request<{ last_read_seq?: number }>("POST", `/conversations/${conversationId}/read`, { seq }),
};
