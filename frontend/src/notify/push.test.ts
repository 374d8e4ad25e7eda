import { describe, expect, it } from "vitest";
import { base64UrlToBytes } from "./push";
import { KIND_HINTS, validateTargetInput } from "./targets";

describe("base64UrlToBytes", () => {
  it("decodes base64url without padding, as VAPID public keys come", () => {
    const bytes = base64UrlToBytes("BPz-_w");
    expect(Array.from(bytes)).toEqual([0x04, 0xfc, 0xfe, 0xff]);
  });
  it("gives 65 bytes for an uncompressed P-256 key", () => {
    const key = "B" + "A".repeat(86);
    expect(base64UrlToBytes(key).length).toBe(65);
  });
});

describe("target input", () => {
  it("has a hint for every kind", () => {
    for (const kind of ["wecom", "dingtalk", "feishu", "email", "apprise"] as const) {
      expect(KIND_HINTS[kind].example.length).toBeGreaterThan(5);
    }
  });
  it("catches the obvious mistakes before asking the server", () => {
    expect(validateTargetInput("email", "zhang@qq.com")).toBeNull();
    expect(validateTargetInput("email", "zhang")).toBe("badEmail");
    expect(validateTargetInput("wecom", "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1")).toBe("badUrl");
    expect(validateTargetInput("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1")).toBeNull();
    expect(validateTargetInput("apprise", "tgram://123:abc/456")).toBeNull();
    expect(validateTargetInput("apprise", "just text")).toBe("badUrl");
    expect(validateTargetInput("feishu", "")).toBe("required");
  });
});

describe("notify strings", async () => {
  const { missingNotifyKeys, notifyText } = await import("./strings");
  it("has every text in Chinese", () => {
    expect(missingNotifyKeys()).toEqual([]);
  });
  it("fills in variables", () => {
    expect(notifyText("zh-CN", "testFailed", { detail: "93000" })).toBe("失败：93000");
  });
});
