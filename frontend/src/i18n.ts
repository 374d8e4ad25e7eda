// Simplified Chinese and English. The browser's language picks the default; the choice the
// person makes in the app is kept in localStorage and wins from then on.

export type Lang = "zh-CN" | "en";
export const LANGS: Lang[] = ["zh-CN", "en"];
export const STORAGE_KEY = "hub.lang";

const en = {
  appName: "Xiaowei Hub",
  workspace: "Workspace",
  switchWorkspace: "Switch workspace",
  language: "Language",
  signOut: "Sign out",
  channels: "Channels",
  groups: "Groups",
  directMessages: "Direct messages",
  noConversations: "No conversations yet.",
  noWorkspace: "You are not in any workspace yet. Ask for an invitation link.",
  pickConversation: "Pick a conversation on the left.",
  back: "Back",
  loading: "Loading…",
  loadingOlder: "Loading earlier messages…",
  startOfConversation: "This is the start of the conversation.",
  composerPlaceholder: "Message {name}",
  composerLabel: "Write a message",
  send: "Send",
  sending: "Sending…",
  failed: "Not sent.",
  retry: "Retry",
  discard: "Discard",
  edited: "(edited)",
  deleted: "This message was deleted.",
  offline: "You are offline. Messages will be sent when the connection is back.",
  reconnecting: "Reconnecting…",
  today: "Today",
  yesterday: "Yesterday",
  unread: "{n} unread",
  mentions: "{n} mentions",
  muted: "muted",
  directMessage: "Direct message",
  group: "Group",
  external: "External",
  conversations: "Conversations",
  newMessages: "New messages",
  jumpToLatest: "Jump to latest",
  errorLoading: "Could not load. Check the connection and try again.",
  tryAgain: "Try again",
  typingOne: "{name} is typing…",
  typingTwo: "{a} and {b} are typing…",
  typingMany: "Several people are typing…",
  newChannel: "New channel",
  channelName: "Channel name",
  privateChannel: "Private (invited people only)",
  create: "Create",
  cancel: "Cancel",
  otherChannels: "Other channels ({n})",
  join: "Join",
  enableNotifications: "Turn on notifications",
  search: "Search",
  searchPlaceholder: "Search messages",
  searching: "Searching…",
  noResults: "No messages match.",
  resultCount: "{n} results",
  closeSearch: "Close search",
  searchFailed: "Search failed: {message}",
  messageActions: "Message actions",
  reactWith: "React with {emoji}",
  edit: "Edit",
  delete: "Delete",
  confirmDelete: "Delete this message for everyone?",
  save: "Save",
  actionFailed: "Could not do that: {message}",
  newConversation: "New direct message or group",
  findPeople: "Find people",
  groupName: "Group name (optional)",
  start: "Start",
  pickPeople: "Pick one person for a direct message, or several for a group.",
  online: "Online",
  away: "Away",
  offlineStatus: "Offline",
  readBy: "Read by {n} of {m}",
  readList: "Read",
  unreadList: "Not read yet",
};

export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  appName: "小微协作",
  workspace: "工作区",
  switchWorkspace: "切换工作区",
  language: "语言",
  signOut: "退出登录",
  channels: "频道",
  groups: "群组",
  directMessages: "私信",
  noConversations: "还没有会话。",
  noWorkspace: "你还没有加入任何工作区，请向管理员索取邀请链接。",
  pickConversation: "请在左侧选择一个会话。",
  back: "返回",
  loading: "加载中…",
  loadingOlder: "正在加载更早的消息…",
  startOfConversation: "这是会话的开始。",
  composerPlaceholder: "发消息给 {name}",
  composerLabel: "输入消息",
  send: "发送",
  sending: "发送中…",
  failed: "发送失败。",
  retry: "重试",
  discard: "丢弃",
  edited: "（已编辑）",
  deleted: "此消息已删除。",
  offline: "网络已断开，恢复连接后消息会自动发送。",
  reconnecting: "正在重新连接…",
  today: "今天",
  yesterday: "昨天",
  unread: "{n} 条未读",
  mentions: "{n} 条提及",
  muted: "已静音",
  directMessage: "私信",
  group: "群组",
  external: "外部",
  conversations: "会话",
  newMessages: "新消息",
  jumpToLatest: "回到最新",
  errorLoading: "加载失败，请检查网络后重试。",
  tryAgain: "重试",
  typingOne: "{name} 正在输入…",
  typingTwo: "{a} 和 {b} 正在输入…",
  typingMany: "多人正在输入…",
  newChannel: "新建频道",
  channelName: "频道名称",
  privateChannel: "私有（仅限受邀成员）",
  create: "创建",
  cancel: "取消",
  otherChannels: "其他频道（{n}）",
  join: "加入",
  enableNotifications: "开启通知",
  search: "搜索",
  searchPlaceholder: "搜索消息",
  searching: "搜索中…",
  noResults: "没有找到匹配的消息。",
  resultCount: "共 {n} 条结果",
  closeSearch: "关闭搜索",
  searchFailed: "搜索失败：{message}",
  messageActions: "消息操作",
  reactWith: "用 {emoji} 回应",
  edit: "编辑",
  delete: "删除",
  confirmDelete: "确定为所有人删除这条消息？",
  save: "保存",
  actionFailed: "操作失败：{message}",
  newConversation: "发起私信或群聊",
  findPeople: "查找同事",
  groupName: "群名称（可选）",
  start: "开始",
  pickPeople: "选一位同事发私信，选多位则建群。",
  online: "在线",
  away: "离开",
  offlineStatus: "离线",
  readBy: "{m} 人中 {n} 人已读",
  readList: "已读",
  unreadList: "未读",
};

const DICTS: Record<Lang, Record<MessageKey, string>> = { en, "zh-CN": zh };

/** Maps any BCP 47 tag (zh, zh-Hans-CN, zh-TW, en-GB, …) to one of ours, or null. */
export function normalizeLang(tag: string | null | undefined): Lang | null {
  if (!tag) return null;
  const lower = tag.toLowerCase();
  if (lower.startsWith("zh")) return "zh-CN";
  if (lower.startsWith("en")) return "en";
  return null;
}

/** The stored choice first, then the browser's preferred languages in order, then Chinese. */
export function detectLang(stored: string | null, browser: readonly string[]): Lang {
  const fromStore = stored && (LANGS as string[]).includes(stored) ? (stored as Lang) : null;
  if (fromStore) return fromStore;
  for (const tag of browser) {
    const lang = normalizeLang(tag);
    if (lang) return lang;
  }
  return "zh-CN";
}

export function translate(lang: Lang, key: MessageKey, vars?: Record<string, string | number>): string {
  let text = DICTS[lang][key] ?? en[key];
  if (vars) {
    for (const [name, value] of Object.entries(vars)) text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

/** Every key exists in every language (checked by the unit tests too). */
export function missingKeys(): Record<Lang, string[]> {
  const out = {} as Record<Lang, string[]>;
  for (const lang of LANGS) out[lang] = (Object.keys(en) as MessageKey[]).filter((k) => !DICTS[lang][k]);
  return out;
}

export function loadLang(): Lang {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // private mode or storage disabled: fall back to the browser language
  }
  const browser = typeof navigator !== "undefined" ? navigator.languages ?? [navigator.language] : [];
  return detectLang(stored, browser);
}

export function saveLang(lang: Lang): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // not persisted; the choice still applies to this page
  }
}
