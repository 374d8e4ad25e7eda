import { describe, expect, it } from "vitest";
import { detectLang, missingKeys, normalizeLang, translate } from "./i18n";

describe("i18n", () => {
  it("maps browser tags to our languages", () => {
    expect(normalizeLang("zh")).toBe("zh-CN");
    expect(normalizeLang("zh-Hans-CN")).toBe("zh-CN");
    expect(normalizeLang("zh-TW")).toBe("zh-CN");
    expect(normalizeLang("en-GB")).toBe("en");
    expect(normalizeLang("fr-FR")).toBeNull();
  });

  it("the stored choice wins, then the browser order, then Chinese", () => {
    expect(detectLang("en", ["zh-CN"])).toBe("en");
    expect(detectLang(null, ["fr", "en-US", "zh-CN"])).toBe("en");
    expect(detectLang(null, ["zh-CN", "en"])).toBe("zh-CN");
    expect(detectLang("de", ["fr"])).toBe("zh-CN");
    expect(detectLang(null, [])).toBe("zh-CN");
  });

  it("has every key in both languages and fills variables", () => {
    expect(missingKeys()).toEqual({ "zh-CN": [], en: [] });
    expect(translate("en", "unread", { n: 3 })).toBe("3 unread");
    expect(translate("zh-CN", "unread", { n: 3 })).toBe("3 条未读");
    expect(translate("zh-CN", "composerPlaceholder", { name: "# 销售" })).toBe("发消息给 # 销售");
  });
});
