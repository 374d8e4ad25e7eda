import { describe, expect, it } from "vitest";
import { parseRoute } from "../client";
import { parseRecordsRoute, recordPath, recordsPath } from "./route";

describe("records routes", () => {
  it("opens the customer search by default", () => {
    expect(parseRecordsRoute("/app/w/3/r/")).toEqual({ workspaceId: 3, view: "search", type: "customer" });
    expect(parseRecordsRoute("/app/w/3/r")).toEqual({ workspaceId: 3, view: "search", type: "customer" });
  });

  it("searches one known type and refuses others", () => {
    expect(parseRecordsRoute("/app/w/3/r/invoice/")).toEqual({ workspaceId: 3, view: "search", type: "invoice" });
    expect(parseRecordsRoute("/app/w/3/r/contact/")).toBeNull();
  });

  it("round-trips a record whose key needs escaping", () => {
    const path = recordPath(3, 7, "customer", "C/001 茶");
    expect(parseRecordsRoute(path)).toEqual({ workspaceId: 3, view: "record", sourceId: 7, type: "customer", key: "C/001 茶" });
  });

  it("ignores paths that are not records", () => {
    expect(parseRecordsRoute("/app/w/3/c/4/")).toBeNull();
    expect(parseRecordsRoute("/app/w/3/r/x/customer/C001/")).toBeNull();
    expect(parseRecordsRoute("/app/w/3/r/1/customer/%E0%A4%A/")).toBeNull();
  });

  it("builds search paths", () => {
    expect(recordsPath(3)).toBe("/app/w/3/r/");
    expect(recordsPath(3, "product")).toBe("/app/w/3/r/product/");
  });
});

describe("the conversation router", () => {
  it("keeps the workspace of a records or admin screen", () => {
    expect(parseRoute("/app/w/3/r/")).toEqual({ workspaceId: 3, conversationId: null });
    expect(parseRoute("/app/w/3/r/7/customer/C001/")).toEqual({ workspaceId: 3, conversationId: null });
    expect(parseRoute("/app/w/3/admin/erp/")).toEqual({ workspaceId: 3, conversationId: null });
  });
});
