// What each kind of forwarding target looks like, for the settings form.

import type { TargetKind } from "./api";

export const KINDS: TargetKind[] = ["wecom", "dingtalk", "feishu", "email", "apprise"];

export const KIND_HINTS: Record<TargetKind, { example: string; signed: boolean }> = {
  wecom: { example: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…", signed: false },
  dingtalk: { example: "https://oapi.dingtalk.com/robot/send?access_token=…", signed: true },
  feishu: { example: "https://open.feishu.cn/open-apis/bot/v2/hook/…", signed: true },
  email: { example: "zhangsan@qq.com", signed: false },
  apprise: { example: "bark://api.day.app/<device key>  ·  ntfys://ntfy.sh/<topic>  ·  tgram://<bot>/<chat>", signed: false },
};

export type InputProblem = "required" | "badUrl" | "badEmail";

/** A quick local check; the server decides (public host, apprise understanding the URL). */
export function validateTargetInput(kind: TargetKind, value: string): InputProblem | null {
  const text = value.trim();
  if (!text) return "required";
  if (kind === "email") return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text) ? null : "badEmail";
  if (kind === "apprise") return /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(text) ? null : "badUrl";
  return /^https?:\/\/\S+$/i.test(text) ? null : "badUrl";
}
