import { describe, expect, it } from "vitest";
import { fieldText } from "./fields";

describe("record fields as text", () => {
  it("shows scalars as they are and empties as a dash", () => {
    expect(fieldText("上海市")).toBe("上海市");
    expect(fieldText(12)).toBe("12");
    expect(fieldText(null)).toBe("—");
    expect(fieldText("")).toBe("—");
    expect(fieldText([])).toBe("—");
  });

  it("reads rows of stock or prices as one line", () => {
    expect(
      fieldText([
        { warehouse: "HZ", available: "120" },
        { warehouse: "SH", available: "8" },
      ]),
    ).toBe("warehouse: HZ，available: 120；warehouse: SH，available: 8");
  });
});
