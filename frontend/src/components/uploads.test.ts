import { describe, expect, it } from "vitest";
import { extensionOf, formatSize, isImageName, pastedName, uploadError } from "./uploads";

describe("uploads", () => {
  it("formats sizes in binary units", () => {
    expect(formatSize(0)).toBe("0 B");
    expect(formatSize(1023)).toBe("1023 B");
    expect(formatSize(1536)).toBe("1.5 KB");
    expect(formatSize(20 * 1024 * 1024)).toBe("20 MB");
    expect(formatSize(3 * 1024 ** 3)).toBe("3.0 GB");
  });

  it("reads extensions of Chinese file names", () => {
    expect(extensionOf("报价单（最终版）.XLSX")).toBe("xlsx");
    expect(extensionOf("没有扩展名")).toBe("");
    expect(isImageName("茶园照片.JPG")).toBe(true);
    expect(isImageName("合同.pdf")).toBe(false);
  });

  it("names pasted images distinctly", () => {
    const at = new Date(2026, 10, 26, 9, 5, 7);
    expect(pastedName("image/png", at)).toBe("pasted-20261126-090507.png");
    expect(pastedName("image/jpeg", at)).toBe("pasted-20261126-090507.jpg");
  });

  it("shows the server's error message, else the status", () => {
    const body = JSON.stringify({ error: { code: "file_too_large", message: "文件超过 20 MB 上限" } });
    expect(uploadError(413, body, "Upload failed")).toBe("文件超过 20 MB 上限");
    expect(uploadError(502, "<html>Bad gateway</html>", "Upload failed")).toBe("Upload failed (HTTP 502)");
    expect(uploadError(0, "", "Upload failed")).toBe("Upload failed");
  });
});
