import { describe, expect, it } from "vitest";
import { docPath, parseDocRoute } from "./route";
import { translateDocs } from "./i18n";

describe("document routes", () => {
  it("parses the list and one document", () => {
    expect(parseDocRoute("/app/w/3/d/")).toEqual({ workspaceId: 3, documentId: null });
    expect(parseDocRoute("/app/w/3/d")).toEqual({ workspaceId: 3, documentId: null });
    expect(parseDocRoute("/app/w/3/d/42/")).toEqual({ workspaceId: 3, documentId: 42 });
  });

  it("leaves conversation and foreign paths alone", () => {
    expect(parseDocRoute("/app/w/3/")).toBeNull();
    expect(parseDocRoute("/app/w/3/c/42/")).toBeNull();
    expect(parseDocRoute("/app/w/3/d/abc/")).toBeNull();
    expect(parseDocRoute("/docs/42")).toBeNull();
  });

  it("round-trips paths", () => {
    expect(parseDocRoute(docPath(7, 9))).toEqual({ workspaceId: 7, documentId: 9 });
    expect(parseDocRoute(docPath(7, null))).toEqual({ workspaceId: 7, documentId: null });
  });
});

describe("document strings", () => {
  it("fill in variables in both languages", () => {
    expect(translateDocs("zh-CN", "editingNow", { n: 3 })).toBe("3 人正在编辑");
    expect(translateDocs("en", "inConversation", { name: "#销售部" })).toBe("in #销售部");
  });
});
