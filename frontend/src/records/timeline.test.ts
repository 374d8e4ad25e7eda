import { describe, expect, it } from "vitest";
import { appendPage, chosenInOrder, MAX_LOGGED, toggleChosen, type TimelineEntry } from "./timeline";

function entry(id: number): TimelineEntry {
  return {
    message_id: id,
    conversation_id: 1,
    conversation_name: "销售部",
    seq: id,
    sender_name: "王小明",
    sender_is_bot: false,
    text: `消息 ${id}`,
    created_at: "2026-11-26T10:00:00Z",
    via: "room",
    records: [],
  };
}

describe("customer timeline", () => {
  it("appends an older page without repeating a message", () => {
    const merged = appendPage([entry(9), entry(8)], [entry(8), entry(7)]);
    expect(merged.map((e) => e.message_id)).toEqual([9, 8, 7]);
  });

  it("toggles messages in and out of the selection", () => {
    let chosen = toggleChosen(new Set(), 3);
    chosen = toggleChosen(chosen, 5);
    expect([...chosen]).toEqual([3, 5]);
    expect([...toggleChosen(chosen, 3)]).toEqual([5]);
  });

  it("refuses to choose more than the server accepts", () => {
    let chosen: ReadonlySet<number> = new Set();
    for (let id = 1; id <= MAX_LOGGED; id++) chosen = toggleChosen(chosen, id);
    expect(toggleChosen(chosen, 999)).toBe(chosen);
    expect(toggleChosen(chosen, 1).size).toBe(MAX_LOGGED - 1);
  });

  it("sends the chosen ids in timeline order", () => {
    expect(chosenInOrder([entry(9), entry(8), entry(7)], new Set([7, 9]))).toEqual([9, 7]);
  });
});
