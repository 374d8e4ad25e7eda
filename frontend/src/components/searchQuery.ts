// The search box's query as words and operator filters (docs/search.md, "Query language"),
// so the panel can show filters as removable chips and add new ones without the person
// having to remember the syntax. The server parses the query again; this only splits it.

export type FilterKey = "from" | "in" | "has" | "mentions" | "before" | "after" | "on" | "is";

export const FILTER_KEYS: FilterKey[] = ["from", "in", "has", "mentions", "before", "after", "on", "is"];

export interface Chip {
  key: FilterKey;
  value: string;
  /** The token as typed, to remove exactly it. */
  raw: string;
}

// An operator, its value quoted ("…", “…”) or bare; full-width colon accepted like the server.
const TOKEN = /(?:^|\s)((from|in|has|mentions|before|after|on|is)[:：](?:"[^"]*"|“[^”]*”|\S+))/giu;

/** Filters in the query, in order. */
export function chipsOf(query: string): Chip[] {
  const chips: Chip[] = [];
  for (const match of query.matchAll(TOKEN)) {
    const raw = match[1];
    const key = match[2].toLowerCase() as FilterKey;
    const value = raw.slice(key.length + 1).replace(/^["“]|["”]$/g, "");
    chips.push({ key, value, raw });
  }
  return chips;
}

/** The query without one filter token (spaces tidied). */
export function removeChip(query: string, chip: Chip): string {
  const index = query.indexOf(chip.raw);
  if (index < 0) return query;
  return (query.slice(0, index) + query.slice(index + chip.raw.length)).replace(/\s+/g, " ").trim();
}

/** A value as the server wants it: people and channels get their sigil, spaces get quotes. */
export function filterToken(key: FilterKey, value: string): string {
  let v = value.trim();
  if (!v) return "";
  if (key === "from" || key === "mentions") v = v.startsWith("@") || v === "me" ? (v === "me" ? "@me" : v) : `@${v}`;
  if (key === "in" && !v.startsWith("#") && !/\s/.test(v)) v = `#${v}`;
  if (/\s/.test(v)) v = `"${v.replace(/"/g, "")}"`;
  return `${key}:${v}`;
}

/** The query with one more filter at the end (replacing an identical one). */
export function addChip(query: string, key: FilterKey, value: string): string {
  const token = filterToken(key, value);
  if (!token) return query.trim();
  if (chipsOf(query).some((c) => c.raw === token)) return query.trim();
  return `${query.trim()} ${token}`.trim();
}

/** The words of the query (what is not a filter). */
export function wordsOf(query: string): string {
  let rest = query;
  for (const chip of chipsOf(query)) rest = removeChip(rest, chip);
  return rest;
}
