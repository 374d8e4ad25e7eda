// Timeline layout: day separators and grouping of consecutive messages, in the person's time
// zone and language.

import type { Lang } from "./i18n";
import { translate } from "./i18n";

export const GROUP_WINDOW_MS = 5 * 60 * 1000;

export interface TimelineItemLike {
  key: string;
  sender_id: number;
  created_at: string;
}

export type Row<T> =
  | { kind: "day"; key: string; label: string }
  | { kind: "message"; key: string; item: T; first: boolean };

// Building an Intl.DateTimeFormat costs far more than using one: keep one per shape.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, found);
  }
  return found;
}

// Timelines re-lay out on every change; a message's calendar day never changes, so remember it.
const dayKeys = new Map<string, string>();
const DAY_KEYS_MAX = 100_000;

/** Calendar day of an instant in a time zone, as YYYY-MM-DD. */
export function dayKey(iso: string, timeZone?: string): string {
  const cacheKey = `${timeZone ?? ""}|${iso}`;
  const cached = dayKeys.get(cacheKey);
  if (cached !== undefined) return cached;
  const key = computeDayKey(iso, timeZone);
  if (dayKeys.size >= DAY_KEYS_MAX) dayKeys.clear();
  dayKeys.set(cacheKey, key);
  return key;
}

function computeDayKey(iso: string, timeZone?: string): string {
  const parts = formatter("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

export function dayLabel(iso: string, lang: Lang, timeZone?: string, now: Date = new Date()): string {
  const key = dayKey(iso, timeZone);
  if (key === dayKey(now.toISOString(), timeZone)) return translate(lang, "today");
  const yesterday = new Date(now.getTime() - 24 * 3600 * 1000);
  if (key === dayKey(yesterday.toISOString(), timeZone)) return translate(lang, "yesterday");
  const sameYear = key.slice(0, 4) === dayKey(now.toISOString(), timeZone).slice(0, 4);
  return formatter(lang, {
    timeZone,
    year: sameYear ? undefined : "numeric",
    month: "long",
    day: "numeric",
    weekday: "short",
  }).format(new Date(iso));
}

export function timeLabel(iso: string, lang: Lang, timeZone?: string): string {
  return formatter(lang, { timeZone, hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

/**
 * Rows for the timeline: a day separator before the first message of each calendar day, and
 * `first` on a message that starts a group (new sender, new day, or more than five minutes
 * after the previous message).
 */
export function layoutRows<T extends TimelineItemLike>(
  items: T[],
  lang: Lang,
  timeZone?: string,
  now: Date = new Date(),
): Row<T>[] {
  const rows: Row<T>[] = [];
  let previous: T | null = null;
  let previousDay = "";
  let previousTime = 0;
  for (const item of items) {
    const day = dayKey(item.created_at, timeZone);
    const newDay = day !== previousDay;
    if (newDay) rows.push({ kind: "day", key: `day-${day}`, label: dayLabel(item.created_at, lang, timeZone, now) });
    // (dayLabel runs once per calendar day, not once per message; each time is parsed once.)
    const time = Date.parse(item.created_at);
    const first =
      newDay || previous === null || previous.sender_id !== item.sender_id || time - previousTime > GROUP_WINDOW_MS;
    rows.push({ kind: "message", key: item.key, item, first });
    previous = item;
    previousDay = day;
    previousTime = time;
  }
  return rows;
}

export function validTimeZone(tz: string | undefined): string | undefined {
  if (!tz) return undefined;
  try {
    formatter("en", { timeZone: tz });
    return tz;
  } catch {
    return undefined;
  }
}

// --- @mentions in the composer ---------------------------------------------------------------

const MENTION_AT_CARET = /(^|[\s(（，。,])@([\w\u3400-\u9fff.-]{0,40})$/u;

/** The `@token` being typed just before the caret, if any: where its `@` is and what follows. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const match = MENTION_AT_CARET.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: caret - match[2].length - 1, query: match[2] };
}

/** Replace the `@token` at `start..caret` with `@handle ` and say where the caret goes. */
export function insertMention(text: string, start: number, caret: number, handle: string): { text: string; caret: number } {
  const inserted = `@${handle} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}
