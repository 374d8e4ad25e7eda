// Late replies of slash commands: an external app answering through its response_url reaches
// the person who ran the command as a `command.reply` frame on /ws/ (docs/protocol.md). They
// are ephemeral (never stored, never replayed), so a reply for a conversation whose composer
// is not on screen waits here until that composer mounts, rather than being dropped.

import type { Block } from "./cardLogic";

export interface LateReply {
  conversationId: number;
  command: string;
  text: string;
  html: string;
  blocks: Block[];
}

type Listener = (reply: LateReply) => void;

const listeners = new Map<number, Set<Listener>>();
const waiting = new Map<number, LateReply[]>();
/** A person rarely has more than a few replies in flight; keep the newest few per conversation. */
const MAX_WAITING = 5;

/** A frame as a reply, or null when it is not a well-formed command.reply. */
export function parseCommandReply(frame: Record<string, unknown>): LateReply | null {
  if (frame.type !== "command.reply" || typeof frame.conversation_id !== "number") return null;
  const blocks = Array.isArray(frame.blocks)
    ? frame.blocks.filter((b): b is Block => b !== null && typeof b === "object" && typeof (b as Block).type === "string")
    : [];
  return {
    conversationId: frame.conversation_id,
    command: typeof frame.command === "string" ? frame.command : "",
    text: typeof frame.text === "string" ? frame.text : "",
    html: typeof frame.html === "string" ? frame.html : "",
    blocks,
  };
}

/** Called by the client for every command.reply frame. */
export function handleCommandReply(frame: Record<string, unknown>): void {
  const reply = parseCommandReply(frame);
  if (!reply) return;
  const here = listeners.get(reply.conversationId);
  if (here?.size) {
    for (const listener of here) listener(reply);
    return;
  }
  const queue = waiting.get(reply.conversationId) ?? [];
  waiting.set(reply.conversationId, [...queue, reply].slice(-MAX_WAITING));
}

/** Receive the conversation's late replies: first any that waited, then live ones. */
export function onCommandReply(conversationId: number, listener: Listener): () => void {
  const set = listeners.get(conversationId) ?? new Set<Listener>();
  set.add(listener);
  listeners.set(conversationId, set);
  const queued = waiting.get(conversationId) ?? [];
  waiting.delete(conversationId);
  for (const reply of queued) listener(reply);
  return () => {
    set.delete(listener);
    if (!set.size) listeners.delete(conversationId);
  };
}
