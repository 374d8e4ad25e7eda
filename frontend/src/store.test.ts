import { describe, expect, it } from "vitest";
import {
  addPending,
  discardPending,
  inLoadedRange,
  mergeHistory,
  mergeReplies,
  newConv,
  pendingFor,
  receiveAck,
  receiveEvent,
  receiveEvents,
  setPendingState,
  timeline,
  upsertMessage,
} from "./store";
import type { HubEvent, Message } from "./types";

function msg(id: number, seq: number, extra: Partial<Message> = {}): Message {
  return {
    id,
    conversation_id: 1,
    seq,
    sender_id: 7,
    sender_name: "张三",
    client_id: `c-${id}`,
    body: `m${id}`,
    html: `<p>m${id}</p>`,
    created_at: "2026-11-26T08:00:00+00:00",
    ...extra,
  };
}

function newEvent(id: number, seq: number, extra: Partial<Message> = {}): HubEvent {
  return { type: "message.new", conversation_id: 1, seq, message: msg(id, seq, extra) };
}

describe("receiveEvent", () => {
  it("applies in-order events and moves the cursor", () => {
    let conv = newConv(1, 10);
    const r1 = receiveEvent(conv, newEvent(100, 11));
    conv = r1.conv;
    expect(r1.applied.map((e) => e.seq)).toEqual([11]);
    expect(r1.gap).toBe(false);
    expect(conv.appliedSeq).toBe(11);
    expect(conv.messages.map((m) => m.id)).toEqual([100]);
  });

  it("ignores duplicates at or below the cursor (replay overlapping live frames)", () => {
    let conv = newConv(1, 10);
    conv = receiveEvent(conv, newEvent(100, 11)).conv;
    const again = receiveEvent(conv, newEvent(100, 11));
    expect(again.applied).toEqual([]);
    expect(again.conv).toBe(conv);
    const old = receiveEvent(conv, newEvent(99, 9));
    expect(old.conv.messages.map((m) => m.id)).toEqual([100]);
  });

  it("buffers past a gap, reports it, and drains in order once the gap is filled", () => {
    let conv = newConv(1, 10);
    const ahead = receiveEvent(conv, newEvent(103, 13));
    expect(ahead.gap).toBe(true);
    expect(ahead.applied).toEqual([]);
    expect(ahead.conv.appliedSeq).toBe(10);
    conv = ahead.conv;
    conv = receiveEvent(conv, newEvent(102, 12)).conv; // still missing 11
    expect(conv.appliedSeq).toBe(10);
    const filled = receiveEvent(conv, newEvent(101, 11));
    expect(filled.applied.map((e) => e.seq)).toEqual([11, 12, 13]);
    expect(filled.gap).toBe(false);
    expect(filled.conv.appliedSeq).toBe(13);
    expect(filled.conv.buffered).toEqual({});
    expect(filled.conv.messages.map((m) => m.seq)).toEqual([11, 12, 13]);
  });

  it("a refetched range applies exactly once even when it overlaps the buffer", () => {
    let conv = newConv(1, 0);
    conv = receiveEvent(conv, newEvent(1, 1)).conv;
    conv = receiveEvent(conv, newEvent(4, 4)).conv; // gap 2..3
    const page = [newEvent(2, 2), newEvent(3, 3), newEvent(4, 4), newEvent(5, 5)];
    const result = receiveEvents(conv, page);
    expect(result.applied.map((e) => e.seq)).toEqual([2, 3, 4, 5]);
    expect(result.conv.messages.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
    expect(result.gap).toBe(false);
    // The socket now delivers 5 again: nothing happens.
    expect(receiveEvent(result.conv, newEvent(5, 5)).applied).toEqual([]);
  });

  it("edits, deletes, reactions and pins replace the message wholesale by id", () => {
    let conv = newConv(1, 0);
    conv = receiveEvent(conv, newEvent(1, 1)).conv;
    conv = receiveEvent(conv, {
      type: "message.edited",
      conversation_id: 1,
      seq: 2,
      message: msg(1, 1, { body: "changed", edited_at: "2026-11-26T08:01:00+00:00" }),
    }).conv;
    conv = receiveEvent(conv, {
      type: "reaction.changed",
      conversation_id: 1,
      seq: 3,
      message_id: 1,
      reactions: [{ emoji: "👍", count: 1, user_ids: [8] }],
    }).conv;
    conv = receiveEvent(conv, { type: "pin.changed", conversation_id: 1, seq: 4, message_id: 1, pinned: true }).conv;
    expect(conv.messages).toHaveLength(1);
    expect(conv.messages[0].body).toBe("changed");
    expect(conv.messages[0].reactions?.[0].emoji).toBe("👍");
    expect(conv.messages[0].pinned).toBe(true);
    expect(conv.appliedSeq).toBe(4);
    conv = receiveEvent(conv, {
      type: "message.deleted",
      conversation_id: 1,
      seq: 5,
      message: msg(1, 1, { body: "", html: "", deleted: true }),
    }).conv;
    expect(conv.messages[0].deleted).toBe(true);
  });

  it("unknown event types still move the cursor", () => {
    const conv = receiveEvent(newConv(1, 3), { type: "member.joined", conversation_id: 1, seq: 4, user_ids: [2] }).conv;
    expect(conv.appliedSeq).toBe(4);
  });
});

describe("pending sends", () => {
  const pending = (clientId: string) => ({
    client_id: clientId,
    conversation_id: 1,
    body: "你好",
    created_at: "2026-11-26T08:00:00Z",
    state: "sending" as const,
  });

  it("the ack replaces the local echo; the later message.new does not duplicate it", () => {
    let conv = addPending(newConv(1, 0), pending("abc"));
    expect(conv.pending).toHaveLength(1);
    conv = receiveAck(conv, "abc", msg(1, 1, { client_id: "abc" }));
    expect(conv.pending).toHaveLength(0);
    expect(conv.messages).toHaveLength(1);
    expect(conv.appliedSeq).toBe(0); // acks are not log events: the cursor waits for seq 1
    conv = receiveEvent(conv, newEvent(1, 1, { client_id: "abc" })).conv;
    expect(conv.messages).toHaveLength(1);
    expect(conv.appliedSeq).toBe(1);
  });

  it("message.new before the ack also clears the echo, and the ack then changes nothing", () => {
    let conv = addPending(newConv(1, 0), pending("abc"));
    conv = receiveEvent(conv, newEvent(1, 1, { client_id: "abc" })).conv;
    expect(conv.pending).toHaveLength(0);
    conv = receiveAck(conv, "abc", msg(1, 1, { client_id: "abc" }));
    expect(conv.messages).toHaveLength(1);
  });

  it("failed sends keep their client_id for the retry; discard drops them", () => {
    let conv = addPending(newConv(1, 0), pending("abc"));
    conv = setPendingState(conv, "abc", "failed", "timeout");
    expect(conv.pending[0]).toMatchObject({ client_id: "abc", state: "failed", error: "timeout" });
    conv = setPendingState(conv, "abc", "sending");
    expect(conv.pending[0].state).toBe("sending");
    expect(discardPending(conv, "abc").pending).toEqual([]);
  });

  it("adding the same client_id twice (double click, retry) keeps one echo", () => {
    let conv = addPending(newConv(1, 0), pending("abc"));
    conv = addPending(conv, pending("abc"));
    expect(conv.pending).toHaveLength(1);
  });
});

describe("history pages", () => {
  it("merges by id with events, in seq order, without duplicates", () => {
    let conv = newConv(1, 5);
    conv = receiveEvent(conv, newEvent(6, 6)).conv;
    conv = mergeHistory(conv, [msg(4, 4), msg(5, 5), msg(6, 6)], { hasMoreBefore: true, older: false });
    expect(conv.messages.map((m) => m.id)).toEqual([4, 5, 6]);
    expect(conv.hasMoreBefore).toBe(true);
    conv = mergeHistory(conv, [msg(1, 1), msg(2, 2), msg(3, 3)], { hasMoreBefore: false, older: true });
    expect(conv.messages.map((m) => m.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(conv.hasMoreBefore).toBe(false);
  });

  it("a stale page does not undo a newer edit that arrived by event", () => {
    let conv = newConv(1, 1);
    conv = mergeHistory(conv, [msg(1, 1)], { hasMoreBefore: false, older: false });
    conv = receiveEvent(conv, {
      type: "message.edited",
      conversation_id: 1,
      seq: 2,
      message: msg(1, 1, { body: "new" }),
    }).conv;
    conv = mergeHistory(conv, [msg(1, 1, { body: "old" })], { older: false });
    expect(conv.messages[0].body).toBe("new");
  });

  it("a page with our own pending message drops the echo", () => {
    let conv = addPending(newConv(1, 0), {
      client_id: "c-1",
      conversation_id: 1,
      body: "m1",
      created_at: "2026-11-26T08:00:00Z",
      state: "sending",
    });
    conv = mergeHistory(conv, [msg(1, 1)], { older: false, hasMoreBefore: false });
    expect(conv.pending).toEqual([]);
  });

  it("timeline leaves thread replies to the thread panel", () => {
    let conv = newConv(1, 0);
    conv = receiveEvents(conv, [newEvent(1, 1), newEvent(2, 2, { thread_root_id: 1 })]).conv;
    expect(timeline(conv).map((m) => m.id)).toEqual([1]);
  });

  it("upsert keeps seq order when messages arrive out of order", () => {
    let messages: Message[] = [];
    for (const seq of [5, 1, 3, 2, 4]) messages = upsertMessage(messages, msg(seq, seq));
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe("jump windows", () => {
  // Messages 100..109 loaded as a window around an old message; the newest is seq 500.
  function windowed() {
    const page = Array.from({ length: 10 }, (_, i) => msg(100 + i, 100 + i));
    return mergeHistory(newConv(1, 500), page, { older: false, replace: true, hasMoreBefore: true, hasMoreAfter: true });
  }

  it("a window replaces what was loaded and pages both ways", () => {
    let conv = mergeHistory(newConv(1, 500), [msg(499, 499), msg(500, 500)], { older: false, hasMoreBefore: true });
    conv = mergeHistory(conv, [msg(100, 100), msg(101, 101)], { older: false, replace: true, hasMoreBefore: true, hasMoreAfter: true });
    expect(conv.messages.map((m) => m.seq)).toEqual([100, 101]);
    expect(conv.hasMoreAfter).toBe(true);
    conv = mergeHistory(conv, [msg(102, 102), msg(103, 103)], { older: false, hasMoreAfter: false });
    expect(conv.messages.map((m) => m.seq)).toEqual([100, 101, 102, 103]);
    expect(conv.hasMoreAfter).toBe(false);
    expect(conv.hasMoreBefore).toBe(true);
  });

  it("a live message beyond the window moves the cursor but leaves no hole", () => {
    const result = receiveEvent(windowed(), newEvent(501, 501));
    expect(result.conv.appliedSeq).toBe(501);
    expect(result.applied).toHaveLength(1);
    expect(result.conv.messages.map((m) => m.seq)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
  });

  it("an edit of a message inside the window applies; one outside is left for its page", () => {
    let conv = windowed();
    conv = receiveEvent(conv, { type: "message.edited", conversation_id: 1, seq: 501, message: msg(105, 105, { body: "改" }) }).conv;
    conv = receiveEvent(conv, { type: "message.edited", conversation_id: 1, seq: 502, message: msg(40, 40, { body: "旧" }) }).conv;
    expect(conv.messages.find((m) => m.id === 105)?.body).toBe("改");
    expect(conv.messages.some((m) => m.id === 40)).toBe(false);
    expect(inLoadedRange(conv, 40)).toBe(false);
    expect(inLoadedRange(conv, 600)).toBe(false);
    expect(inLoadedRange(conv, 104)).toBe(true);
  });

  it("at the newest page, live messages append as before", () => {
    let conv = mergeHistory(newConv(1, 2), [msg(1, 1), msg(2, 2)], { older: false, hasMoreBefore: false });
    conv = receiveEvent(conv, newEvent(3, 3)).conv;
    expect(conv.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });
});

describe("threads", () => {
  it("pending replies are kept apart from the main timeline's echoes", () => {
    let conv = newConv(1, 0);
    const base = { conversation_id: 1, body: "x", created_at: "2026-11-26T08:00:00Z", state: "sending" as const };
    conv = addPending(conv, { ...base, client_id: "a" });
    conv = addPending(conv, { ...base, client_id: "b", thread_root_id: 9 });
    expect(pendingFor(conv, null).map((p) => p.client_id)).toEqual(["a"]);
    expect(pendingFor(conv, 9).map((p) => p.client_id)).toEqual(["b"]);
    // The reply's ack clears its echo like any other.
    conv = receiveAck(conv, "b", msg(10, 3, { thread_root_id: 9, client_id: "b" }));
    expect(pendingFor(conv, 9)).toEqual([]);
  });

  it("replies merge by id in seq order; a stale copy never undoes an edit or a delete", () => {
    let replies = mergeReplies([], [msg(12, 12), msg(11, 11)]);
    expect(replies.map((m) => m.id)).toEqual([11, 12]);
    replies = mergeReplies(replies, [msg(11, 11, { body: "edited", edited_at: "2026-11-26T09:00:00Z" })]);
    replies = mergeReplies(replies, [msg(11, 11, { body: "old" })]);
    expect(replies[0].body).toBe("edited");
    replies = mergeReplies(replies, [msg(12, 12, { deleted: true, body: "" })]);
    replies = mergeReplies(replies, [msg(12, 12)]);
    expect(replies[1].deleted).toBe(true);
  });
});
