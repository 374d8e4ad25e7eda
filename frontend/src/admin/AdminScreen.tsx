// The admin area (a lazy chunk): ERP sources, imports, watch rules, integrations (bots, event
// subscriptions, app commands, incoming webhooks) and the workspace's usage, retention and
// export, one section at a time behind a row of links. Owners and admins only — the server
// refuses everyone else, and the screen says so instead of showing forms that would fail.

import { useClient, useHub } from "../hooks";
import "./admin.css";
import { ErpSources } from "./ErpSources";
import { useAdminT } from "./i18n";
import { ImportPanel } from "./ImportPanel";
import { Integrations } from "./Integrations";
import { adminPath, isAdminRole, openAdminPath, SECTIONS, type AdminRoute } from "./route";
import { WatchRules } from "./WatchRules";
import { WorkspacePanel } from "./WorkspacePanel";

export default function AdminScreen({ route }: { route: AdminRoute }) {
  const t = useAdminT();
  const client = useClient();
  const role = useHub((s) => s.me.workspaces.find((w) => w.id === route.workspaceId)?.role);
  return (
    <section className="admin" aria-label={t("admin")}>
      <header className="conv-head">
        <button
          type="button"
          className="back"
          aria-label={t("backToConversations")}
          onClick={() => client.navigate({ workspaceId: route.workspaceId, conversationId: null })}
        >
          ‹
        </button>
        <h1>{t("admin")}</h1>
      </header>
      {!isAdminRole(role) ? (
        <p className="empty" role="alert">
          {t("adminsOnly")}
        </p>
      ) : (
        <div className="admin-body">
          <nav className="admin-tabs" aria-label={t("sections")}>
            {SECTIONS.map((section) => (
              <a
                key={section}
                href={adminPath(route.workspaceId, section)}
                aria-current={section === route.section ? "page" : undefined}
                data-testid={`admin-tab-${section}`}
                onClick={(e) => {
                  e.preventDefault();
                  openAdminPath(adminPath(route.workspaceId, section));
                }}
              >
                {t(section)}
              </a>
            ))}
          </nav>
          <h2>{t(route.section)}</h2>
          {route.section === "erp" && <ErpSources workspaceId={route.workspaceId} />}
          {route.section === "import" && <ImportPanel workspaceId={route.workspaceId} />}
          {route.section === "rules" && <WatchRules workspaceId={route.workspaceId} />}
          {route.section === "integrations" && <Integrations workspaceId={route.workspaceId} />}
          {route.section === "workspace" && <WorkspacePanel workspaceId={route.workspaceId} />}
        </div>
      )}
    </section>
  );
}
