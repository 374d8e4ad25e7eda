import { describe, expect, it } from "vitest";
import { dayKey, layoutRows } from "./format";

const at = (iso: string, sender = 1) => ({ key: iso + sender, sender_id: sender, created_at: iso });

describe("timeline layout", () => {
  const now = new Date("2026-11-26T12:00:00Z");

  it("computes the calendar day in the person's time zone", () => {
    // 17:00 UTC is already the next day in Shanghai.
    expect(dayKey("2026-11-25T17:00:00Z", "Asia/Shanghai")).toBe("2026-11-26");
    expect(dayKey("2026-11-25T17:00:00Z", "UTC")).toBe("2026-11-25");
  });

  it("puts a separator before each day and groups consecutive messages", () => {
    const rows = layoutRows(
      [
        at("2026-11-25T01:00:00Z"),
        at("2026-11-25T01:02:00Z"),
        at("2026-11-25T01:03:00Z", 2),
        at("2026-11-25T01:20:00Z", 2),
        at("2026-11-26T01:00:00Z", 2),
      ],
      "en",
      "Asia/Shanghai",
      now,
    );
    expect(rows.map((r) => (r.kind === "day" ? `day:${r.label}` : r.first ? "first" : "cont"))).toEqual([
      "day:Yesterday",
      "first",
      "cont",
      "first",
      "first", // 17 minutes later: a new group
      "day:Today",
      "first",
    ]);
  });

  it("labels days in Chinese", () => {
    const rows = layoutRows([at("2026-11-26T01:00:00Z")], "zh-CN", "Asia/Shanghai", now);
    expect(rows[0]).toMatchObject({ kind: "day", label: "今天" });
  });
});

describe("@mention autocomplete", () => {
  it("finds the token being typed before the caret", async () => {
    const { mentionQuery } = await import("./format");
    expect(mentionQuery("你好 @陈", 5)).toEqual({ start: 3, query: "陈" });
    expect(mentionQuery("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionQuery("mail me@example", 15)).toBeNull(); // an address, not a mention
    expect(mentionQuery("@bob done", 9)).toBeNull(); // the caret left the token
    expect(mentionQuery("请，@li", 5)).toEqual({ start: 2, query: "li" });
  });

  it("inserts the handle and a space, keeping the rest", async () => {
    const { insertMention } = await import("./format");
    expect(insertMention("hi @bo there", 3, 6, "bob")).toEqual({ text: "hi @bob  there", caret: 8 });
    expect(insertMention("@陈", 0, 2, "陈大伟")).toEqual({ text: "@陈大伟 ", caret: 5 });
  });
});
