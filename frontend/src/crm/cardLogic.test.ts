import { describe, expect, it } from "vitest";
import {
  asOfText,
  blockRef,
  chartBars,
  completeArgument,
  formatMoney,
  formatQuantity,
  isOverdue,
  parseCommand,
  recordTypeLabel,
  renderableBlocks,
  safeHref,
  statusTone,
} from "./cardLogic";

describe("money and quantities", () => {
  it("formats decimal strings without floats", () => {
    expect(formatMoney({ amount: "13600.5", currency: "CNY" })).toBe("¥13,600.50");
    expect(formatMoney({ amount: "1234567.891", currency: "USD" })).toBe("$1,234,567.891");
    expect(formatMoney({ amount: "0.1", currency: "XYZ" })).toBe("XYZ 0.10");
    expect(formatMoney({ amount: "-5", currency: "CNY" })).toBe("-¥5.00");
    expect(formatMoney({ amount: "9007199254740993.01", currency: "CNY" })).toBe("¥9,007,199,254,740,993.01");
    expect(formatMoney(null)).toBe("");
  });
  it("drops trailing zeros of quantities", () => {
    expect(formatQuantity("12.000")).toBe("12");
    expect(formatQuantity("0.500")).toBe("0.5");
    expect(formatQuantity("20")).toBe("20");
  });
});

describe("card text", () => {
  const card = { as_of: "2026-11-26T02:42:00+00:00", stale_since: null, source_label: "Odoo" };
  it("says as of when and from where", () => {
    expect(asOfText(card, "en", "Asia/Shanghai")).toBe("as of 10:42 from Odoo");
    expect(asOfText(card, "zh-CN", "Asia/Shanghai")).toBe("截至 10:42 · 来自 Odoo");
  });
  it("says since when a card is stale", () => {
    const stale = { ...card, stale_since: "2026-11-26T03:05:00+00:00" };
    expect(asOfText(stale, "zh-CN", "Asia/Shanghai")).toContain("自 11:05 起无法连接 Odoo");
    expect(asOfText(stale, "en", "Asia/Shanghai")).toContain("since 11:05");
  });
  it("labels types and tones statuses", () => {
    expect(recordTypeLabel("sales_order", "zh-CN")).toBe("销售订单");
    expect(recordTypeLabel("purchase_order", "en")).toBe("Purchase order");
    expect(statusTone("to_approve")).toBe("warn");
    expect(statusTone("approved")).toBe("ok");
    expect(statusTone("rejected")).toBe("bad");
  });
  it("knows overdue invoices", () => {
    expect(isOverdue({ due_date: "2026-11-21", status: "open" }, "2026-11-26")).toBe(true);
    expect(isOverdue({ due_date: "2026-11-21", status: "paid" }, "2026-11-26")).toBe(false);
  });
});

describe("blocks", () => {
  it("keeps known blocks only and builds record refs", () => {
    const blocks = [{ type: "header", text: "x" }, { type: "marquee" }, { type: "record", source_id: 3, record_type: "sales_order", key: "17" }];
    expect(renderableBlocks(blocks).map((b) => b.type)).toEqual(["header", "record"]);
    expect(blockRef(blocks[2])).toBe("3:sales_order:17");
    expect(blockRef({ type: "record", source_id: "3" })).toBeNull();
  });
  it("allows only safe links", () => {
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("//evil.test")).toBeNull();
    expect(safeHref("/app/c/1")).toBe("/app/c/1");
    expect(safeHref("https://erp.test/x")).toBe("https://erp.test/x");
  });
  it("fits chart bars", () => {
    const bars = chartBars(["9:00", "10:00", "11:00"], [50, 100, 0], 300, 60);
    expect(bars.map((b) => b.height)).toEqual([30, 60, 0]);
    expect(bars[1].y).toBe(0);
    expect(bars[2].x).toBeGreaterThan(bars[1].x);
    expect(chartBars([], [], 100, 10)).toEqual([]);
  });
});

describe("commands", () => {
  it("parses and completes", () => {
    expect(parseCommand("/Stock 龙井 杭州仓")).toEqual({ name: "stock", args: "龙井 杭州仓" });
    expect(parseCommand("hello /stock")).toBeNull();
    expect(completeArgument("/stock 龙", "TEA-500G")).toBe("/stock TEA-500G ");
    expect(completeArgument("/st", "/stock ")).toBe("/stock ");
  });
});
