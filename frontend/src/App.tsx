import { lazy, Suspense, useEffect, useState } from "react";
import { ConversationView } from "./components/ConversationView";
import { SearchBox, SearchPanel } from "./components/Search";
import { Sidebar } from "./components/Sidebar";
import { DocSearchHits, DocsLink } from "./docs/DocSearchHits";
import { DocsScreen } from "./docs/DocsScreen";
import { interceptDocLinks, parseDocRoute, usePathname } from "./docs/route";
import { useClient, useHub, useT } from "./hooks";
import { LANGS, type Lang } from "./i18n";
import { NotifyButton, NotifySettings, useNotifySettingsOpen } from "./notify/NotifySettings";
import { parseRecordsRoute } from "./records/route";
import { parseAdminRoute } from "./admin/route";

// The records screens are a chunk of their own, fetched on first visit (first-load budget).
const RecordsScreen = lazy(() => import("./records/RecordsScreen"));
const AdminScreen = lazy(() => import("./admin/AdminScreen"));

const LANG_NAMES: Record<Lang, string> = { "zh-CN": "中文", en: "EN" };

function ConnectionBanner() {
  const t = useT();
  const socket = useHub((s) => s.socket);
  const browserOnline = useHub((s) => s.browserOnline);
  // A reconnect that takes less than a second is not worth a flash of yellow.
  const [late, setLate] = useState(false);
  useEffect(() => {
    if (socket === "open") {
      setLate(false);
      return;
    }
    const timer = setTimeout(() => setLate(true), 1000);
    return () => clearTimeout(timer);
  }, [socket]);
  if (socket === "open" && browserOnline) return null;
  if (!browserOnline || late) {
    return (
      <div className="banner" role="status" aria-live="polite" data-testid="offline-banner">
        {browserOnline ? t("reconnecting") : t("offline")}
      </div>
    );
  }
  return null;
}

function Header() {
  const client = useClient();
  const t = useT();
  const me = useHub((s) => s.me);
  const lang = useHub((s) => s.lang);
  const workspaceId = useHub((s) => s.workspaceId);
  const notifications = useHub((s) => s.notifications);
  return (
    <header className="topbar">
      <span className="brand">{t("appName")}</span>
      {me.workspaces.length > 0 && (
        <label className="ws-switch">
          <span className="visually-hidden">{t("switchWorkspace")}</span>
          <select
            aria-label={t("switchWorkspace")}
            value={workspaceId ?? ""}
            onChange={(e) => client.navigate({ workspaceId: Number(e.target.value), conversationId: null })}
          >
            {me.workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <span className="spacer" />
      {me.workspaces.length > 0 && <DocsLink />}
      {me.workspaces.length > 0 && <SearchBox />}
      <select
        className="lang-switch"
        aria-label={t("language")}
        value={lang}
        onChange={(e) => client.setLang(e.target.value as Lang)}
      >
        {LANGS.map((l) => (
          <option key={l} value={l}>
            {LANG_NAMES[l]}
          </option>
        ))}
      </select>
      {notifications === "default" && (
        <button type="button" className="notify" onClick={() => void client.enableNotifications()}>
          {t("enableNotifications")}
        </button>
      )}
      <NotifyButton />
      <span className="me" title={me.email}>
        {me.display_name || me.email}
      </span>
      <a className="signout" href="/accounts/logout/">
        {t("signOut")}
      </a>
    </header>
  );
}

export function App() {
  const t = useT();
  const me = useHub((s) => s.me);
  const activeId = useHub((s) => s.activeId);
  const searching = useHub((s) => s.search !== null);
  const lang = useHub((s) => s.lang);
  const pathname = usePathname();
  const docRoute = parseDocRoute(pathname);
  const recordsRoute = parseRecordsRoute(pathname);
  const adminRoute = parseAdminRoute(pathname);
  const notifyOpen = useNotifySettingsOpen();
  useEffect(() => {
    document.title = t("appName");
  }, [t, lang]);
  useEffect(interceptDocLinks, []);
  return (
    <div className="app" data-pane={activeId === null && !searching && !docRoute && !recordsRoute && !adminRoute && !notifyOpen ? "list" : "conversation"}>
      <Header />
      <ConnectionBanner />
      {me.workspaces.length === 0 ? (
        <main className="empty">{t("noWorkspace")}</main>
      ) : (
        <div className="panes">
          <Sidebar />
          <main className="main" aria-label={t("conversations")}>
            {notifyOpen ? (
              <NotifySettings />
            ) : searching ? (
              <>
                <DocSearchHits />
                <SearchPanel />
              </>
            ) : docRoute ? (
              <DocsScreen route={docRoute} />
            ) : recordsRoute ? (
              <Suspense fallback={<div className="empty">{t("loading")}</div>}>
                <RecordsScreen route={recordsRoute} />
              </Suspense>
            ) : adminRoute ? (
              <Suspense fallback={<div className="empty">{t("loading")}</div>}>
                <AdminScreen route={adminRoute} />
              </Suspense>
            ) : activeId === null ? (
              <div className="empty">{t("pickConversation")}</div>
            ) : (
              <ConversationView key={activeId} id={activeId} />
            )}
          </main>
        </div>
      )}
    </div>
  );
}
