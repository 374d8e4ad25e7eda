// Admin routes: /app/w/<ws>/admin/ (ERP sources), /app/w/<ws>/admin/<section>/. The
// conversation router (client.ts) owns the workspace part; these screens follow the location.

export const SECTIONS = ["erp", "import", "rules", "integrations", "workspace"] as const;
export type Section = (typeof SECTIONS)[number];
export type AdminRoute = { workspaceId: number; section: Section };

export function parseAdminRoute(pathname: string): AdminRoute | null {
  const match = /^\/app\/w\/(\d+)\/admin(?:\/([a-z]+))?\/?$/.exec(pathname);
  if (!match) return null;
  const section = match[2] ?? "erp";
  if (!(SECTIONS as readonly string[]).includes(section)) return null;
  return { workspaceId: Number(match[1]), section: section as Section };
}

export function adminPath(workspaceId: number, section: Section = "erp"): string {
  return section === "erp" ? `/app/w/${workspaceId}/admin/` : `/app/w/${workspaceId}/admin/${section}/`;
}

/** Go to an admin screen; the conversation router hears it through popstate (same workspace). */
export function openAdminPath(path: string): void {
  if (path !== location.pathname) history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** Owners and admins manage the workspace; the server refuses everyone else anyway. */
export function isAdminRole(role: string | undefined): boolean {
  return role === "owner" || role === "admin";
}
