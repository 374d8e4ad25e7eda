import { describe, expect, it } from "vitest";
import { addChip, chipsOf, filterToken, removeChip, wordsOf } from "./searchQuery";

describe("search query chips", () => {
  it("finds operator filters, quoted and full-width", () => {
    const chips = chipsOf('订单 from:@张三 in:"ops team" has:file after：2026-05-01');
    expect(chips.map((c) => [c.key, c.value])).toEqual([
      ["from", "@张三"],
      ["in", "ops team"],
      ["has", "file"],
      ["after", "2026-05-01"],
    ]);
    expect(wordsOf('订单 from:@张三 in:"ops team" 发货')).toBe("订单 发货");
  });

  it("does not take words that merely contain a colon-like operator", () => {
    expect(chipsOf("https://example.test/from:x")).toEqual([]);
  });

  it("removes exactly one filter", () => {
    const q = "订单 from:@张三 from:@me";
    const [first] = chipsOf(q);
    expect(removeChip(q, first)).toBe("订单 from:@me");
  });

  it("adds filters with the right sigils and quotes", () => {
    expect(filterToken("from", "张三")).toBe("from:@张三");
    expect(filterToken("from", "me")).toBe("from:@me");
    expect(filterToken("in", "销售")).toBe("in:#销售");
    expect(filterToken("in", "ops team")).toBe('in:"ops team"');
    expect(filterToken("from", "Lucy Chen")).toBe('from:"@Lucy Chen"');
    expect(addChip("订单", "has", "file")).toBe("订单 has:file");
    expect(addChip("订单 has:file", "has", "file")).toBe("订单 has:file");
    expect(addChip("", "on", "today")).toBe("on:today");
  });
});
