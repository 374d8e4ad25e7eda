// Strings of the document screens, kept beside them (the app's dictionary stays the
// conversation UI's); same two languages, same rule: every key in both.

import { useCallback } from "react";
import { useHub } from "../hooks";
import type { Lang } from "../i18n";

const en = {
  documents: "Documents",
  newDocument: "New document",
  titlePlaceholder: "Document title",
  create: "Create",
  untitled: "Untitled",
  noDocuments: "No documents yet.",
  inConversation: "in {name}",
  editedAt: "edited {when}",
  open: "Open",
  loadingEditor: "Loading the editor…",
  statusSaved: "Saved",
  statusSyncing: "Saving…",
  statusConnecting: "Connecting…",
  statusOffline: "Offline — edits are kept on this device and sync when you are back",
  readOnly: "You can view this document.",
  editorLimit: "Too many people are editing; you can view it and see every change live.",
  reloadNeeded: "This document was restored to an earlier version. Reloading…",
  accessEnded: "You no longer have access to this document.",
  notFound: "This document does not exist or you cannot see it.",
  here: "Here now",
  versions: "Version history",
  closeVersions: "Close",
  saveVersion: "Save version",
  versionName: "Version name",
  restore: "Restore this version",
  restoreConfirm: "Replace the document's content with this version? The current content is kept as a version.",
  preview: "Preview",
  noVersions: "No versions yet.",
  kind_named: "named",
  kind_auto: "automatic",
  kind_restore: "before restore",
  bold: "Bold",
  italic: "Italic",
  strike: "Strikethrough",
  heading1: "Heading 1",
  heading2: "Heading 2",
  bulletList: "Bulleted list",
  orderedList: "Numbered list",
  taskList: "Checklist",
  link: "Link",
  linkPrompt: "Link address (https://…)",
  table: "Table",
  codeBlock: "Code block",
  image: "Image",
  quote: "Quote",
  undo: "Undo",
  redo: "Redo",
  rename: "Rename",
  noMatches: "Nobody matches",
  documentResults: "Documents",
  editingNow: "{n} editing now",
  nobodyEditing: "nobody editing",
  backToList: "All documents",
  shareTo: "Share in a conversation",
  noConversation: "Not in a conversation",
};

export type DocsKey = keyof typeof en;

const zh: Record<DocsKey, string> = {
  documents: "文档",
  newDocument: "新建文档",
  titlePlaceholder: "文档标题",
  create: "创建",
  untitled: "未命名",
  noDocuments: "还没有文档。",
  inConversation: "在 {name}",
  editedAt: "{when} 编辑",
  open: "打开",
  loadingEditor: "正在加载编辑器…",
  statusSaved: "已保存",
  statusSyncing: "正在保存…",
  statusConnecting: "正在连接…",
  statusOffline: "离线 — 修改保存在本设备，恢复连接后自动同步",
  readOnly: "你可以查看此文档。",
  editorLimit: "正在编辑的人数已满；你可以查看并实时看到所有修改。",
  reloadNeeded: "此文档已恢复到较早的版本，正在重新加载…",
  accessEnded: "你已无权访问此文档。",
  notFound: "文档不存在或你无权查看。",
  here: "正在查看",
  versions: "版本历史",
  closeVersions: "关闭",
  saveVersion: "保存版本",
  versionName: "版本名称",
  restore: "恢复此版本",
  restoreConfirm: "用此版本替换文档内容？当前内容会保存为一个版本。",
  preview: "预览",
  noVersions: "还没有版本。",
  kind_named: "命名",
  kind_auto: "自动",
  kind_restore: "恢复前",
  bold: "粗体",
  italic: "斜体",
  strike: "删除线",
  heading1: "一级标题",
  heading2: "二级标题",
  bulletList: "项目符号列表",
  orderedList: "编号列表",
  taskList: "任务清单",
  link: "链接",
  linkPrompt: "链接地址（https://…）",
  table: "表格",
  codeBlock: "代码块",
  image: "图片",
  quote: "引用",
  undo: "撤销",
  redo: "重做",
  rename: "重命名",
  noMatches: "没有匹配的成员",
  documentResults: "文档",
  editingNow: "{n} 人正在编辑",
  nobodyEditing: "无人编辑",
  backToList: "全部文档",
  shareTo: "分享到会话",
  noConversation: "不关联会话",
};

const DICTS: Record<Lang, Record<DocsKey, string>> = { en, "zh-CN": zh };

export function translateDocs(lang: Lang, key: DocsKey, vars?: Record<string, string | number>): string {
  let text = DICTS[lang]?.[key] ?? en[key];
  for (const [name, value] of Object.entries(vars ?? {})) text = text.replace(`{${name}}`, String(value));
  return text;
}

export function useDocsT(): (key: DocsKey, vars?: Record<string, string | number>) => string {
  const lang = useHub((s) => s.lang);
  return useCallback((key, vars) => translateDocs(lang, key, vars), [lang]);
}

export function formatWhen(iso: string, lang: Lang): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(lang === "zh-CN" ? "zh-CN" : "en", {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}
