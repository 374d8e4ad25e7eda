// Texts of the notification settings (zh-CN / en), kept beside the feature.

import { useCallback } from "react";
import { useHub } from "../hooks";
import type { Lang } from "../i18n";

const en = {
  open: "Notification settings",
  title: "Notifications on your phone",
  close: "Close",
  intro:
    "Mentions and direct messages can reach you when the app is closed: as a push notification to this device, or forwarded to where your phone already listens (a WeCom, DingTalk or Feishu robot, an email address, any apprise URL). Mute, notification levels and quiet hours apply to all of them.",
  preview: "What notifications show",
  preview_none: "Nothing (just “new message”)",
  preview_sender: "Who and where",
  preview_first_line: "Who, where and the first line",
  previewNote: "Forwarded messages pass through the robot's company (Tencent, Alibaba, ByteDance…): choose what they may see.",
  pushTitle: "Push to this device",
  pushOn: "Push is on for this browser.",
  pushOff: "Push is off for this browser.",
  pushDenied: "This browser blocks notifications for this site; allow them in the site settings.",
  pushUnsupported: "This browser cannot receive push (on iPhone: add the app to the home screen first).",
  pushEnable: "Turn on push",
  pushDisable: "Turn off",
  pushTest: "Send test push",
  pushChinaNote: "In mainland China browser push is unreliable; add a forwarding target below as well.",
  devices: "Subscribed browsers",
  remove: "Remove",
  forwardTitle: "Forward to my phone",
  noTargets: "No forwarding targets yet.",
  addTarget: "Add target",
  kind: "Kind",
  kind_wecom: "WeCom group robot",
  kind_dingtalk: "DingTalk robot",
  kind_feishu: "Feishu bot",
  kind_email: "Email",
  kind_apprise: "Apprise URL",
  label: "Name (optional)",
  url: "Webhook URL",
  address: "Email address",
  appriseUrl: "Apprise URL",
  secret: "Signing secret (加签, optional)",
  secretKeep: "Signing secret (leave empty to keep)",
  add: "Add",
  sendTest: "Send test",
  testing: "Sending…",
  testOk: "Sent. Check your phone.",
  testFailed: "Failed: {detail}",
  enabled: "On",
  disabled: "Off (switched off)",
  lastOk: "last delivered {when}",
  lastError: "last error: {detail}",
  signed: "signed",
  required: "Fill this in.",
  badUrl: "This does not look like a URL.",
  badEmail: "This does not look like an email address.",
  saved: "Saved.",
};

export type NotifyKey = keyof typeof en;

const zh: Record<NotifyKey, string> = {
  open: "通知设置",
  title: "手机上的通知",
  close: "关闭",
  intro:
    "不在应用里时，提到你的消息和私信也能找到你：推送到这台设备，或者转发到你手机已经在看的地方（企业微信、钉钉、飞书群机器人，邮箱，或任意 apprise 地址）。会话静音、通知级别和免打扰时段对所有方式都有效。",
  preview: "通知里显示什么",
  preview_none: "不显示内容（只提示有新消息）",
  preview_sender: "显示谁、在哪里",
  preview_first_line: "显示谁、在哪里和第一行",
  previewNote: "转发的消息会经过机器人所属公司（腾讯、阿里、字节等）的服务器，请选择允许它们看到的内容。",
  pushTitle: "推送到这台设备",
  pushOn: "此浏览器已开启推送。",
  pushOff: "此浏览器未开启推送。",
  pushDenied: "此浏览器禁止了本站的通知，请在网站设置中允许。",
  pushUnsupported: "此浏览器不支持推送（iPhone 需先把应用添加到主屏幕）。",
  pushEnable: "开启推送",
  pushDisable: "关闭",
  pushTest: "发送测试推送",
  pushChinaNote: "在中国大陆浏览器推送不稳定，建议同时在下面添加转发。",
  devices: "已订阅的浏览器",
  remove: "移除",
  forwardTitle: "转发到我的手机",
  noTargets: "还没有转发目标。",
  addTarget: "添加转发目标",
  kind: "类型",
  kind_wecom: "企业微信群机器人",
  kind_dingtalk: "钉钉机器人",
  kind_feishu: "飞书机器人",
  kind_email: "邮箱",
  kind_apprise: "Apprise 地址",
  label: "名称（可选）",
  url: "Webhook 地址",
  address: "邮箱地址",
  appriseUrl: "Apprise 地址",
  secret: "加签密钥（可选）",
  secretKeep: "加签密钥（留空则不变）",
  add: "添加",
  sendTest: "发送测试",
  testing: "发送中…",
  testOk: "已发送，请查看手机。",
  testFailed: "失败：{detail}",
  enabled: "已开启",
  disabled: "已关闭",
  lastOk: "最近送达 {when}",
  lastError: "最近错误：{detail}",
  signed: "已加签",
  required: "请填写。",
  badUrl: "这看起来不是一个网址。",
  badEmail: "这看起来不是邮箱地址。",
  saved: "已保存。",
};

const DICTS: Record<Lang, Record<NotifyKey, string>> = { en, "zh-CN": zh };

export function notifyText(lang: Lang, key: NotifyKey, vars?: Record<string, string | number>): string {
  let text = DICTS[lang][key] ?? en[key];
  for (const [name, value] of Object.entries(vars ?? {})) text = text.replace(`{${name}}`, String(value));
  return text;
}

export function missingNotifyKeys(): string[] {
  return (Object.keys(en) as NotifyKey[]).filter((key) => !zh[key]);
}

export function useNT(): (key: NotifyKey, vars?: Record<string, string | number>) => string {
  const lang = useHub((s) => s.lang);
  return useCallback((key, vars) => notifyText(lang, key, vars), [lang]);
}
