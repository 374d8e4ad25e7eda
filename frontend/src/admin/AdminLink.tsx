// The sidebar entry into the admin area, for owners and admins only (main bundle: small;
// the screens are a lazy chunk).

import { usePathname } from "../docs/route";
import { useHub, useT } from "../hooks";
import { adminPath, isAdminRole, openAdminPath, parseAdminRoute } from "./route";

export function AdminNavItem() {
  const t = useT();
  const workspaceId = useHub((s) => s.workspaceId);
  const role = useHub((s) => s.me.workspaces.find((w) => w.id === s.workspaceId)?.role);
  const here = parseAdminRoute(usePathname()) !== null;
  if (workspaceId === null || !isAdminRole(role)) return null;
  const href = adminPath(workspaceId);
  return (
    <li>
      <a
        className={`nav-item${here ? " active" : ""}`}
        href={href}
        aria-current={here ? "page" : undefined}
        data-testid="admin-link"
        onClick={(e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          openAdminPath(href);
        }}
      >
        <span className="prefix" aria-hidden="true">
          ⚙
        </span>
        <span className="name">{t("navAdmin")}</span>
      </a>
    </li>
  );
}
