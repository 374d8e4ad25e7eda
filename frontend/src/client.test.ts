import { describe, expect, it } from "vitest";
import { newClientId, parseRoute, routePath } from "./client";
import { readCookie } from "./api";
import { backoffDelay, BACKOFF_MAX_MS } from "./socket";

describe("routing", () => {
  it("parses and builds app routes", () => {
    expect(parseRoute("/app/w/3/c/17/")).toEqual({ workspaceId: 3, conversationId: 17 });
    expect(parseRoute("/app/w/3/")).toEqual({ workspaceId: 3, conversationId: null });
    expect(parseRoute("/")).toEqual({ workspaceId: null, conversationId: null });
    expect(routePath({ workspaceId: 3, conversationId: 17 })).toBe("/app/w/3/c/17/");
    expect(routePath({ workspaceId: 3, conversationId: null })).toBe("/app/w/3/");
    // A link to one message (from "copy link", notifications, e-mails).
    expect(parseRoute("/app/w/3/c/17/m/4021/")).toEqual({ workspaceId: 3, conversationId: 17, messageId: 4021 });
    expect(routePath({ workspaceId: 3, conversationId: 17, messageId: 4021 })).toBe("/app/w/3/c/17/m/4021/");
  });
});

describe("client ids", () => {
  it("are RFC 4122 v4 UUIDs and unique", () => {
    const ids = new Set(Array.from({ length: 200 }, () => newClientId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("reconnect back-off", () => {
  it("doubles from 0.5 s with jitter and caps at 30 s", () => {
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(3, () => 1)).toBe(4000);
    expect(backoffDelay(20, () => 1)).toBe(BACKOFF_MAX_MS);
    expect(backoffDelay(100, () => 0)).toBe(BACKOFF_MAX_MS / 2);
  });
});

describe("csrf", () => {
  it("reads the csrftoken cookie", () => {
    expect(readCookie("csrftoken", "sessionid=x; csrftoken=abc%3D; other=1")).toBe("abc=");
    expect(readCookie("csrftoken", "sessionid=x")).toBe("");
  });
});
