// Record routes of the web app: /app/w/<ws>/r/ (search, customers first), /app/w/<ws>/r/<type>/
// (search one type) and /app/w/<ws>/r/<source>/<type>/<key>/ (one record). Like the document
// routes, the conversation router (client.ts) owns the workspace part and these screens only
// follow the location (usePathname in docs/route.ts hears pushState too).

export const SEARCH_TYPES = ["customer", "supplier", "product", "sales_order", "purchase_order", "invoice"] as const;
export type SearchType = (typeof SEARCH_TYPES)[number];

/** Customers and suppliers are the parties a timeline is kept for (crm_bridge/timeline.py). */
export const PARTY_TYPES: readonly string[] = ["customer", "supplier"];

export type RecordsRoute =
  | { workspaceId: number; view: "search"; type: SearchType }
  | { workspaceId: number; view: "record"; sourceId: number; type: string; key: string };

function isSearchType(value: string): value is SearchType {
  return (SEARCH_TYPES as readonly string[]).includes(value);
}

export function parseRecordsRoute(pathname: string): RecordsRoute | null {
  const match = /^\/app\/w\/(\d+)\/r(?:\/([^/]+))?(?:\/([^/]+))?(?:\/([^/]+))?\/?$/.exec(pathname);
  if (!match) return null;
  const workspaceId = Number(match[1]);
  const [, , first, second, third] = match;
  if (first === undefined) return { workspaceId, view: "search", type: "customer" };
  if (second === undefined) return isSearchType(first) ? { workspaceId, view: "search", type: first } : null;
  if (third === undefined || !/^\d+$/.test(first)) return null;
  let key: string;
  try {
    key = decodeURIComponent(third);
  } catch {
    return null; // a malformed escape: not a record link we made
  }
  return { workspaceId, view: "record", sourceId: Number(first), type: second, key };
}

export function recordsPath(workspaceId: number, type: SearchType = "customer"): string {
  return type === "customer" ? `/app/w/${workspaceId}/r/` : `/app/w/${workspaceId}/r/${type}/`;
}

export function recordPath(workspaceId: number, sourceId: number, type: string, key: string): string {
  return `/app/w/${workspaceId}/r/${sourceId}/${encodeURIComponent(type)}/${encodeURIComponent(key)}/`;
}
