// The sidebar's way into the records area (part of the main bundle: small). The screens
// themselves are a lazy chunk (RecordsScreen). In the sidebar rather than the header: on a
// 360 px phone the header is full, and the sidebar is the first pane there.

import { AdminNavItem } from "../admin/AdminLink";
import { usePathname } from "../docs/route";
import { useHub, useT } from "../hooks";
import "./nav.css";
import { parseRecordsRoute, recordsPath } from "./route";

/** Go to a records screen; the conversation router hears it through popstate (same workspace). */
export function openRecordsPath(path: string): void {
  if (path !== location.pathname) history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** The workspace's screens beside its conversations: records for everyone, admin for admins. */
export function WorkspaceNav() {
  const t = useT();
  const workspaceId = useHub((s) => s.workspaceId);
  const here = parseRecordsRoute(usePathname()) !== null;
  if (workspaceId === null) return null;
  const href = recordsPath(workspaceId);
  return (
    <ul className="workspace-nav">
      <li>
        <a
          className={`nav-item${here ? " active" : ""}`}
          href={href}
          aria-current={here ? "page" : undefined}
          data-testid="records-link"
          onClick={(e) => {
            if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
            e.preventDefault();
            openRecordsPath(href);
          }}
        >
          <span className="prefix" aria-hidden="true">
            ▤
          </span>
          <span className="name">{t("navRecords")}</span>
        </a>
      </li>
      <AdminNavItem />
    </ul>
  );
}
