// Document routes of the web app: /app/w/<ws>/d/ (the list) and /app/w/<ws>/d/<id>/ (one
// document). The conversation router (client.ts) owns the workspace part; these screens only
// need to know when the location changes, including pushState from the conversation router.

import { useSyncExternalStore } from "react";

export type DocRoute = { workspaceId: number; documentId: number | null };

export function parseDocRoute(pathname: string): DocRoute | null {
  const match = /^\/app\/w\/(\d+)\/d(?:\/(\d+))?\/?$/.exec(pathname);
  if (!match) return null;
  return { workspaceId: Number(match[1]), documentId: match[2] ? Number(match[2]) : null };
}

export function docPath(workspaceId: number, documentId: number | null): string {
  return documentId === null ? `/app/w/${workspaceId}/d/` : `/app/w/${workspaceId}/d/${documentId}/`;
}

const CHANGED = "hub:locationchange";
let patched = false;

function patchHistory(): void {
  // pushState/replaceState fire no event; the conversation router uses them, so wrap them once.
  if (patched || typeof window === "undefined") return;
  patched = true;
  for (const name of ["pushState", "replaceState"] as const) {
    const original = history[name].bind(history);
    history[name] = (...args: Parameters<History["pushState"]>) => {
      original(...args);
      window.dispatchEvent(new Event(CHANGED));
    };
  }
}

function subscribe(listener: () => void): () => void {
  patchHistory();
  window.addEventListener(CHANGED, listener);
  window.addEventListener("popstate", listener);
  return () => {
    window.removeEventListener(CHANGED, listener);
    window.removeEventListener("popstate", listener);
  };
}

export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => location.pathname);
}

/** Go to a document screen; the conversation router hears it through popstate (same workspace). */
export function openDocPath(path: string): void {
  if (path !== location.pathname) history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** Links to documents inside messages (the card posted when a document is shared, mention
 *  notifications) open in the app instead of reloading the page. */
export function interceptDocLinks(): () => void {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const anchor = (event.target as Element | null)?.closest?.("a[href]") as HTMLAnchorElement | null;
    if (!anchor || anchor.origin !== location.origin || !parseDocRoute(anchor.pathname)) return;
    event.preventDefault();
    openDocPath(anchor.pathname);
  };
  document.addEventListener("click", onClick);
  return () => document.removeEventListener("click", onClick);
}
