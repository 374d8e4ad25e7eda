// Shapes of the fixed v1 API (docs: /work/shared/design/API.md, messaging/serializers.py).
// Extra fields are always allowed, so every optional field is read defensively.

export interface WorkspaceRef {
  id: number;
  name: string;
  role: string;
}

export interface Me {
  id: number;
  email: string;
  display_name: string;
  time_zone?: string;
  language?: string;
  workspaces: WorkspaceRef[];
}

export interface ConversationSummary {
  id: number;
  workspace_id?: number;
  kind: "public" | "private" | "dm" | "group" | string;
  name: string;
  last_seq: number;
  unread_count: number;
  mention_count?: number;
  last_read_seq?: number;
  joined?: boolean;
  muted?: boolean;
  archived?: boolean;
  shared_with?: number[];
  topic?: string;
}

export interface Reaction {
  emoji: string;
  count: number;
  user_ids: number[];
}

export interface MessageBlock {
  type: string;
  [key: string]: unknown;
}

export interface Message {
  id: number;
  conversation_id: number;
  seq: number;
  sender_id: number;
  sender_name?: string;
  client_id?: string;
  body: string;
  html: string;
  thread_root_id?: number | null;
  reply_count?: number;
  last_reply_at?: string | null;
  mentions?: number[];
  created_at: string;
  edited_at?: string | null;
  deleted?: boolean;
  reactions?: Reaction[];
  pinned?: boolean;
  attachments?: Attachment[];
  /** Structured content beside the body (messaging/blocks.py); unknown types are skipped. */
  blocks?: MessageBlock[];
  forwarded_from_id?: number | null;
}

/** A stored upload (`AttachmentOut`); `url`/`thumbnail_url` are API paths. */
export interface Attachment {
  id: number;
  name: string;
  content_type: string;
  size: number;
  width?: number | null;
  height?: number | null;
  url: string;
  thumbnail_url?: string | null;
}

/** A conversation participant (`GET /conversations/{id}/members`). */
export interface Person {
  user_id: number;
  name: string;
  role?: string;
  workspace_role?: string;
  is_external?: boolean;
  partner_id?: number | null;
  partner_name?: string | null;
}

/** One logged event: the envelope (type, conversation_id, seq) plus its payload keys. */
export interface HubEvent {
  type: string;
  conversation_id: number;
  seq: number;
  message?: Message;
  message_id?: number;
  reactions?: Reaction[];
  pinned?: boolean;
  root_id?: number;
  reply_count?: number;
  conversation?: Partial<ConversationSummary>;
  [key: string]: unknown;
}

export interface PendingMessage {
  client_id: string;
  conversation_id: number;
  body: string;
  created_at: string;
  /** Set for a reply in a thread: it shows in the thread panel, not the main timeline. */
  thread_root_id?: number | null;
  /** Uploaded files sent with it (such sends go over HTTP: the socket frame has no ids). */
  attachments?: Attachment[];
  state: "sending" | "failed";
  error?: string;
}

export interface SearchResult {
  message_id: number;
  conversation_id: number;
  conversation_name?: string;
  conversation_kind?: string;
  sender_id: number;
  sender_name?: string;
  created_at: string;
  seq: number;
  thread_root_id?: number | null;
  score?: number;
  /** HTML from the server: the text escaped, matches wrapped in <mark>. */
  snippet: string;
}
