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
  mentions?: number[];
  created_at: string;
  edited_at?: string | null;
  deleted?: boolean;
  reactions?: Reaction[];
  pinned?: boolean;
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
  /** HTML from the server: the text escaped, matches wrapped in <mark>. */
  snippet: string;
}
