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
