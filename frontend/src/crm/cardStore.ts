// The client's record cards: one cache for the whole app, keyed by "<source>:<type>:<key>".
//
// Cards are never in events (each viewer gets the card cut for them), so this store fetches
// them: requests made in the same tick — every row of a history page asking for its
// message's reference cards, every record block — go out as ONE batch request. Events keep
// it live: `record.cards` attaches references to a message, `record.updated` refetches a
// card someone has on screen.

import { useEffect, useSyncExternalStore } from "react";
import type { HubEvent } from "../types";
import { crmApi } from "./api";
import type { Card } from "./cardLogic";

export interface CardEntry {
  card?: Card;
  /** "hidden" — not visible to you or unknown; "error" — could not load now. */
  problem?: "hidden" | "error";
}

const cards = new Map<string, CardEntry>();
const messageRefs = new Map<number, string[]>();
const askedMessages = new Set<number>();
const listeners = new Set<() => void>();
let version = 0;

let queued: { workspace: number; refs: Set<string>; messages: Set<number> } | null = null;

function emit(): void {
  version += 1;
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function flush(): void {
  const batch = queued;
  queued = null;
  if (!batch) return;
  const refs = [...batch.refs];
  const messages = [...batch.messages];
  // The API takes at most 50 refs / 100 messages per call.
  for (let i = 0; i < Math.max(refs.length, messages.length); i += 50) {
    const someRefs = refs.slice(i, i + 50);
    const someMessages = messages.slice(i, i + 50);
    crmApi.cards(batch.workspace, someRefs, someMessages).then(
      (page) => {
        for (const card of page.cards) cards.set(card.ref, { card });
        for (const ref of page.missing) if (!cards.get(ref)?.card) cards.set(ref, { problem: "hidden" });
        for (const id of someMessages) messageRefs.set(id, page.messages[String(id)] ?? messageRefs.get(id) ?? []);
        emit();
      },
      () => {
        for (const ref of someRefs) if (!cards.get(ref)?.card) cards.set(ref, { problem: "error" });
        emit();
      },
    );
  }
}

function enqueue(workspace: number): NonNullable<typeof queued> {
  if (!queued || queued.workspace !== workspace) {
    flush();
    queued = { workspace, refs: new Set(), messages: new Set() };
    queueMicrotask(flush);
  }
  return queued;
}

export function requestCard(workspace: number, ref: string, force = false): void {
  if (!force && cards.has(ref)) return;
  if (!cards.has(ref)) cards.set(ref, {});
  enqueue(workspace).refs.add(ref);
}

export function requestMessageCards(workspace: number, messageId: number): void {
  if (askedMessages.has(messageId)) return;
  askedMessages.add(messageId);
  enqueue(workspace).messages.add(messageId);
}

/** Re-read from the source now (a stale card's refresh button). */
export async function refreshCard(ref: string): Promise<void> {
  try {
    const card = await crmApi.refresh(ref);
    cards.set(ref, { card });
  } catch {
    // The cached copy stays; the button can be pressed again.
  }
  emit();
}

/** Called by the client for every applied conversation event. */
export function handleCrmEvent(event: HubEvent, workspace: number | null): void {
  if (event.type === "record.cards" && typeof event.message_id === "number" && Array.isArray(event.refs)) {
    const refs = event.refs.filter((r): r is string => typeof r === "string");
    messageRefs.set(event.message_id, refs);
    askedMessages.add(event.message_id);
    if (workspace !== null) for (const ref of refs) requestCard(workspace, ref);
    emit();
  }
  if (event.type === "record.updated" && workspace !== null) {
    const record = event.record as { ref?: unknown; version?: unknown; stale_since?: unknown } | undefined;
    const ref = typeof record?.ref === "string" ? record.ref : null;
    const current = ref ? cards.get(ref) : undefined;
    const changed =
      current?.card?.version !== record?.version || Boolean(current?.card?.stale_since) !== Boolean(record?.stale_since);
    // Only cards someone has loaded are refetched; others load fresh when shown.
    if (ref && current && changed) requestCard(workspace, ref, true);
  }
}

export function useCard(workspace: number | null, ref: string | null): CardEntry | undefined {
  useEffect(() => {
    if (workspace !== null && ref) requestCard(workspace, ref);
  }, [workspace, ref]);
  useSyncExternalStore(subscribe, () => version);
  return ref ? cards.get(ref) : undefined;
}

/** Whether any of these cards is stale (its source unreachable): write buttons next to it
 * are disabled until a good read (the server refuses such writes anyway). */
export function useAnyStale(refs: string[]): boolean {
  useSyncExternalStore(subscribe, () => version);
  return refs.some((ref) => Boolean(cards.get(ref)?.card?.stale_since));
}

export function useMessageRefs(workspace: number | null, messageId: number | undefined): string[] {
  useEffect(() => {
    if (workspace !== null && messageId !== undefined) requestMessageCards(workspace, messageId);
  }, [workspace, messageId]);
  useSyncExternalStore(subscribe, () => version);
  return messageId !== undefined ? (messageRefs.get(messageId) ?? []) : [];
}

/** For tests: forget everything. */
export function resetCards(): void {
  cards.clear();
  messageRefs.clear();
  askedMessages.clear();
  queued = null;
  emit();
}
