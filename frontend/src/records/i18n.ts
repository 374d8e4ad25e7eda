// Strings of the records screens, kept beside them so they load with their chunk; same two
// languages, same rule as the app's dictionary: every key in both (i18n.test.ts checks).

import { useCallback } from "react";
import { useHub } from "../hooks";
import type { Lang } from "../i18n";

const en = {
  records: "Records",
  recordTypes: "Record type",
  searchLabel: "Search records",
  searchPlaceholder: "Number or name",
  search: "Search",
  noResults: "Nothing found.",
  noSource: "No ERP is connected to this workspace.",
  loading: "Loading…",
  backToSearch: "All records",
  backToConversations: "Back to the conversations",
  details: "Details",
  timeline: "Conversations",
  timelineEmpty: "No conversations about this record yet.",
  timelineMore: "Show older",
  viaRoom: "in its room",
  viaReference: "mentioned",
  openInConversation: "Open in the conversation",
  chooseMessage: "Choose this message to log to the ERP",
  logToErp: "Log {n} to the ERP",
  logged: "Logged {n} messages to the ERP.",
  openRoom: "Open a room for this record",
  notFound: "This record does not exist or you cannot see it.",
  error: "Could not load. Try again.",
  tryAgain: "Try again",
};

export type RecordsKey = keyof typeof en;

const zh: Record<RecordsKey, string> = {
  records: "业务记录",
  recordTypes: "记录类型",
  searchLabel: "搜索记录",
  searchPlaceholder: "编号或名称",
  search: "搜索",
  noResults: "没有找到。",
  noSource: "这个工作区还没有连接 ERP。",
  loading: "加载中…",
  backToSearch: "全部记录",
  backToConversations: "返回会话列表",
  details: "详情",
  timeline: "相关会话",
  timelineEmpty: "还没有关于这条记录的会话。",
  timelineMore: "显示更早的",
  viaRoom: "在专属群里",
  viaReference: "被提及",
  openInConversation: "在会话中打开",
  chooseMessage: "选择这条消息记入 ERP",
  logToErp: "将 {n} 条记入 ERP",
  logged: "已将 {n} 条消息记入 ERP。",
  openRoom: "为这条记录建群",
  notFound: "这条记录不存在，或者你无权查看。",
  error: "加载失败，请重试。",
  tryAgain: "重试",
};

export const RECORDS_DICTS: Record<Lang, Record<RecordsKey, string>> = { en, "zh-CN": zh };

export function translateRecords(lang: Lang, key: RecordsKey, vars?: Record<string, string | number>): string {
  let text = RECORDS_DICTS[lang]?.[key] ?? en[key];
  for (const [name, value] of Object.entries(vars ?? {})) text = text.replace(`{${name}}`, String(value));
  return text;
}

export function useRecordsT(): (key: RecordsKey, vars?: Record<string, string | number>) => string {
  const lang = useHub((s) => s.lang);
  return useCallback((key, vars) => translateRecords(lang, key, vars), [lang]);
}
