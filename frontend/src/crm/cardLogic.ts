// Pure rules of record cards and message blocks (no React, no fetch): formatting money
// without floats, the "as of … from …" line, status tones, chart geometry. Unit-tested.

import type { Lang } from "../i18n";

export interface Money {
  amount: string;
  currency: string;
}

export interface CardLine {
  name: string;
  sku: string;
  quantity: string;
  amount: Money | null;
  available: string | null;
  short: boolean;
}

/** A record card as `GET /api/v1/records/card` returns it (crm_bridge/cards.py). */
export interface Card {
  ref: string;
  source_id: number;
  source_label: string;
  record_type: string;
  key: string;
  number: string;
  title: string;
  status: string;
  status_label: string;
  counterparty_name: string;
  amount: Money | null;
  amount_due: Money | null;
  due_date: string | null;
  owner: string;
  lines: CardLine[];
  more_lines: number;
  fields: Record<string, unknown>;
  internal: Record<string, unknown> | null;
  url: string;
  version: string;
  as_of: string;
  stale_since: string | null;
  writable: boolean;
}

export interface Block {
  type: string;
  [key: string]: unknown;
}

const SYMBOLS: Record<string, string> = { CNY: "¥", USD: "$", EUR: "€", HKD: "HK$", JPY: "¥" };

/** "13600.5" + CNY → "¥13,600.50". Works on the decimal string: money never becomes a float. */
export function formatMoney(money: Money | null | undefined): string {
  if (!money || !/^-?\d+(\.\d+)?$/.test(money.amount)) return money ? `${money.currency} ${money.amount}` : "";
  const negative = money.amount.startsWith("-");
  const [whole, fraction = ""] = money.amount.replace("-", "").split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = (fraction + "00").slice(0, Math.max(2, fraction.length));
  const symbol = SYMBOLS[money.currency];
  const text = `${grouped}.${cents}`;
  return `${negative ? "-" : ""}${symbol ?? `${money.currency} `}${text}`;
}

/** "12.000" → "12": quantities as people write them. */
export function formatQuantity(value: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(value)) return value;
  return value.includes(".") ? value.replace(/\.?0+$/, "") : value;
}

const TYPE_LABELS: Record<string, [string, string]> = {
  sales_order: ["销售订单", "Sales order"],
  purchase_order: ["采购订单", "Purchase order"],
  invoice: ["发票", "Invoice"],
  customer: ["客户", "Customer"],
  supplier: ["供应商", "Supplier"],
  contact: ["联系人", "Contact"],
  product: ["商品", "Product"],
};

export function recordTypeLabel(type: string, lang: Lang): string {
  const labels = TYPE_LABELS[type];
  if (!labels) return type;
  return lang === "en" ? labels[1] : labels[0];
}

export type Tone = "ok" | "warn" | "bad" | "neutral";

export function statusTone(status: string): Tone {
  if (["approved", "confirmed", "done", "paid", "active"].includes(status)) return "ok";
  if (["to_approve", "draft", "open"].includes(status)) return "warn";
  if (["cancelled", "rejected"].includes(status)) return "bad";
  return "neutral";
}

function clock(iso: string, tz: string | undefined): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  try {
    return date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: tz });
  } catch {
    return date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  }
}

/** The card's footer: "as of 10:42 from Odoo", or since when it is stale. */
export function asOfText(card: Pick<Card, "as_of" | "stale_since" | "source_label">, lang: Lang, tz?: string): string {
  if (card.stale_since) {
    const since = clock(card.stale_since, tz);
    return lang === "en"
      ? `Stale: ${card.source_label} unreachable since ${since} (showing ${clock(card.as_of, tz)} copy)`
      : `已过期：自 ${since} 起无法连接 ${card.source_label}（显示 ${clock(card.as_of, tz)} 的数据）`;
  }
  const at = clock(card.as_of, tz);
  return lang === "en" ? `as of ${at} from ${card.source_label}` : `截至 ${at} · 来自 ${card.source_label}`;
}

/** Whether an invoice's due date has passed (dates compared as ISO strings, in local days). */
export function isOverdue(card: Pick<Card, "due_date" | "status">, today: string): boolean {
  return Boolean(card.due_date && card.status === "open" && card.due_date < today);
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  label: string;
  value: number;
}

/** Bars of a small chart fitted into width × height (value axis from 0). */
export function chartBars(labels: string[], values: number[], width: number, height: number): Bar[] {
  const count = Math.min(labels.length, values.length);
  if (!count) return [];
  const max = Math.max(...values.slice(0, count).map((v) => (Number.isFinite(v) ? v : 0)), 0);
  const slot = width / count;
  const gap = Math.min(4, slot * 0.2);
  return Array.from({ length: count }, (_, i) => {
    const value = Number.isFinite(values[i]) ? Math.max(values[i], 0) : 0;
    const h = max > 0 ? (value / max) * height : 0;
    return { x: i * slot + gap / 2, y: height - h, width: slot - gap, height: h, label: labels[i], value };
  });
}

/** The card-cache key of a `record` block. */
export function blockRef(block: Block): string | null {
  const { source_id, record_type, key } = block as { source_id?: unknown; record_type?: unknown; key?: unknown };
  if (typeof source_id !== "number" || typeof record_type !== "string" || typeof key !== "string") return null;
  return `${source_id}:${record_type}:${key}`;
}

export const KNOWN_BLOCKS = new Set([
  "header",
  "section",
  "fields",
  "context",
  "image",
  "actions",
  "record",
  "document",
  "chart",
  "divider",
]);

/** Blocks this client can draw, in order; unknown types (a newer server) are skipped. */
export function renderableBlocks(blocks: Block[] | undefined): Block[] {
  return (blocks ?? []).filter((b) => b && typeof b.type === "string" && KNOWN_BLOCKS.has(b.type));
}

/** A link a block may open: http(s) or a path on this site (the server checks too). */
export function safeHref(url: unknown): string | null {
  if (typeof url !== "string") return null;
  const lower = url.trim().toLowerCase();
  if (lower.startsWith("https://") || lower.startsWith("http://")) return url.trim();
  if (lower.startsWith("/") && !lower.startsWith("//")) return url.trim();
  return null;
}

/** "/stock 龙井" → {name: "stock", args: "龙井"}; null when the text is not a command. */
export function parseCommand(text: string): { name: string; args: string } | null {
  const match = /^\/([A-Za-z][\w-]{0,31})(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return null;
  return { name: match[1].toLowerCase(), args: (match[2] ?? "").trim() };
}

/** What the composer holds after picking an argument suggestion for `/name …`. */
export function completeArgument(text: string, value: string): string {
  if (value.startsWith("/")) return value; // a command name: the whole text
  const parsed = parseCommand(text);
  if (!parsed) return value;
  return `/${parsed.name} ${value}${value.endsWith(" ") ? "" : " "}`;
}

/** Whether a message body may hold a record reference (the server decides; this only saves
 * asking about messages that cannot have any). Mirrors crm_bridge/references.py. */
export function mightReference(body: string | undefined): boolean {
  if (!body) return false;
  return /(^|[^\w/-])[A-Z]{2,6}-[A-Z0-9]{2,16}(?![\w-])|#(customer|supplier|客户|供应商)[:：]|https?:\/\//i.test(body);
}
