// HTTP calls of the ERP features: record cards (one, a batch for a page of messages, refresh),
// block button clicks, slash commands (run, autocomplete). Same conventions as ../api.ts.

import { apiRequest } from "../api";
import type { Message } from "../types";
import type { Block, Card } from "./cardLogic";

// One helper for every module (../api.ts): the same headers, errors and sign-in redirect.
const call = apiRequest;

export interface CardsPage {
  cards: Card[];
  messages: Record<string, string[]>;
  missing: string[];
}

export interface ActionResult {
  status: "done" | "already_done" | "conflict" | "unknown" | "failed";
  message: string;
}

export interface CommandResult {
  command: string;
  visibility: "ephemeral" | "in_channel";
  text: string;
  html: string;
  blocks: Block[];
  message: Message | null;
}

export interface Suggestion {
  value: string;
  label: string;
  detail?: string;
}

export const crmApi = {
  cards: (workspaceId: number, refs: string[], messageIds: number[]) => {
    const query = new URLSearchParams({ workspace: String(workspaceId) });
    for (const ref of refs) query.append("refs", ref);
    for (const id of messageIds) query.append("message_ids", String(id));
    return call<CardsPage>("GET", `/records/cards?${query}`);
  },
  refresh: (ref: string) => {
    const [source_id, type, ...key] = ref.split(":");
    return call<Card>("POST", "/records/card/refresh", { source_id: Number(source_id), type, key: key.join(":") });
  },
  action: (messageId: number, actionId: string, comment = "") =>
    call<ActionResult>("POST", `/messages/${messageId}/actions`, { action_id: actionId, comment }),
  runCommand: (conversationId: number, text: string, clientId: string, threadRootId: number | null) =>
    call<CommandResult>("POST", `/conversations/${conversationId}/commands`, {
      text,
      client_id: clientId,
      thread_root_id: threadRootId,
    }),
  suggest: (conversationId: number, text: string) =>
    call<{ suggestions: Suggestion[] }>(
      "GET",
      `/conversations/${conversationId}/commands/suggest?text=${encodeURIComponent(text)}`,
    ),
};
