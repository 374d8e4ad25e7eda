import { describe, expect, it } from "vitest";
import { handleCommandReply, onCommandReply, parseCommandReply, type LateReply } from "./lateReplies";

const frame = (conversation_id: number, text: string) => ({
  type: "command.reply",
  conversation_id,
  command: "deploy",
  text,
  html: `<p>${text}</p>`,
  blocks: [{ type: "section", text: "ok" }, "junk"],
});

describe("late command replies", () => {
  it("reads a frame and drops malformed blocks", () => {
    expect(parseCommandReply(frame(4, "完成"))).toEqual({
      conversationId: 4,
      command: "deploy",
      text: "完成",
      html: "<p>完成</p>",
      blocks: [{ type: "section", text: "ok" }],
    });
    expect(parseCommandReply({ type: "command.reply" })).toBeNull();
    expect(parseCommandReply({ type: "typing", conversation_id: 4 })).toBeNull();
  });

  it("hands a reply to the open conversation only", () => {
    const got: LateReply[] = [];
    const stop = onCommandReply(10, (r) => got.push(r));
    handleCommandReply(frame(10, "一"));
    handleCommandReply(frame(11, "别处"));
    expect(got.map((r) => r.text)).toEqual(["一"]);
    stop();
    handleCommandReply(frame(10, "二"));
    expect(got.map((r) => r.text)).toEqual(["一"]);
  });

  it("keeps replies for a conversation not on screen until it opens, once", () => {
    handleCommandReply(frame(20, "等待中"));
    const got: string[] = [];
    const stop = onCommandReply(20, (r) => got.push(r.text));
    expect(got).toEqual(["等待中"]);
    stop();
    const again: string[] = [];
    onCommandReply(20, (r) => again.push(r.text))();
    expect(again).toEqual([]);
  });
});
