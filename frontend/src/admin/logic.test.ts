import { describe, expect, it } from "vitest";
import {
  credentialsPatch,
  formatBytes,
  isFinished,
  lagParts,
  parseConfig,
  parseRetention,
  pollDelay,
  progressValue,
  usedPercent,
  type ImportJob,
} from "./logic";
import { adminPath, isAdminRole, parseAdminRoute } from "./route";

function job(over: Partial<ImportJob>): ImportJob {
  return {
    id: 1, type: "customers", file_name: "客户.csv", state: "running", percent: 40, total_rows: 10,
    processed_rows: 4, created: 3, updated: 1, rejected: 0, errors: [], failure: "", encoding: "utf-8",
    created_at: "2026-11-26T10:00:00Z", finished_at: null, ...over,
  };
}

describe("import jobs", () => {
  it("is finished when done or failed", () => {
    expect(isFinished(job({ state: "queued" }))).toBe(false);
    expect(isFinished(job({ state: "running" }))).toBe(false);
    expect(isFinished(job({ state: "done" }))).toBe(true);
    expect(isFinished(job({ state: "failed" }))).toBe(true);
  });

  it("keeps the bar within 0–100 and full when done", () => {
    expect(progressValue(job({ percent: 140 }))).toBe(100);
    expect(progressValue(job({ percent: -3 }))).toBe(0);
    expect(progressValue(job({ state: "done", percent: 97 }))).toBe(100);
  });

  it("polls fast first, then every 5 s", () => {
    expect(pollDelay(0)).toBe(500);
    expect(pollDelay(1)).toBe(1000);
    expect(pollDelay(10)).toBe(5000);
  });
});

describe("sources", () => {
  it("sends only the credentials that were typed", () => {
    expect(credentialsPatch({ api_key: "", secret: "  " })).toBeUndefined();
    expect(credentialsPatch({ key: " abc ", secret: "" })).toEqual({ key: "abc" });
  });

  it("accepts only a JSON object as config", () => {
    expect(parseConfig('{"url": "https://erp.test"}')).toEqual({ url: "https://erp.test" });
    expect(parseConfig("[1]")).toBeNull();
    expect(parseConfig("{")).toBeNull();
  });

  it("reads a lag in its largest unit", () => {
    expect(lagParts(null)).toBeNull();
    expect(lagParts(42)).toEqual({ n: 42, unit: "s" });
    expect(lagParts(600)).toEqual({ n: 10, unit: "min" });
    expect(lagParts(7300)).toEqual({ n: 2, unit: "h" });
    expect(lagParts(200000)).toEqual({ n: 2, unit: "d" });
  });
});

describe("admin routes", () => {
  it("parses sections and refuses unknown ones", () => {
    expect(parseAdminRoute("/app/w/2/admin/")).toEqual({ workspaceId: 2, section: "erp" });
    expect(parseAdminRoute("/app/w/2/admin/import/")).toEqual({ workspaceId: 2, section: "import" });
    expect(parseAdminRoute("/app/w/2/admin/nope/")).toBeNull();
    expect(adminPath(2, "rules")).toBe("/app/w/2/admin/rules/");
  });

  it("lets owners and admins in", () => {
    expect(isAdminRole("owner")).toBe(true);
    expect(isAdminRole("admin")).toBe(true);
    expect(isAdminRole("member")).toBe(false);
    expect(isAdminRole("guest")).toBe(false);
  });
});

describe("workspace usage and retention", () => {
  it("formats storage in binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(50 * 1024 * 1024)).toBe("50 MB");
  });

  it("computes the share of a quota, none when unlimited", () => {
    expect(usedPercent(5, null)).toBeNull();
    expect(usedPercent(25, 100)).toBe(25);
    expect(usedPercent(300, 100)).toBe(100);
  });

  it("reads retention days: empty keeps forever, out of range is refused", () => {
    expect(parseRetention("")).toBeNull();
    expect(parseRetention(" 90 ")).toBe(90);
    expect(parseRetention("0")).toBeUndefined();
    expect(parseRetention("1.5")).toBeUndefined();
    expect(parseRetention("40000")).toBeUndefined();
  });
});
