// Who may do what with the document (owners only): the access inherited from the conversation
// or the workspace (default_access), and per-person overrides (owner / can edit / can view).
// The server applies changes to open sockets at once (docs/documents.md, "Who may do what").

import { useEffect, useState } from "react";
import { api } from "../api";
import { useHub } from "../hooks";
import { docsApi, type DocDetail, type DocPermission } from "./api";
import { useDocsT, type DocsKey } from "./i18n";

const ROLES = ["owner", "edit", "view"] as const;
const ACCESS = ["edit", "view", "none"] as const;

export function SharePanel({ doc, onClose }: { doc: DocDetail; onClose: () => void }) {
  const t = useDocsT();
  const workspaceId = useHub((s) => s.workspaceId);
  const [access, setAccess] = useState(doc.default_access);
  const [overrides, setOverrides] = useState<DocPermission[]>(doc.permissions ?? []);
  const [people, setPeople] = useState<{ user_id: number; display_name: string; email: string }[]>([]);
  const [adding, setAdding] = useState("");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (workspaceId === null) return;
    api.workspaceMembers(workspaceId).then(
      (members) => setPeople(members.filter((m) => m.is_active)),
      () => setPeople([]),
    );
  }, [workspaceId]);

  const name = (userId: number) => {
    const person = people.find((p) => p.user_id === userId);
    return person ? person.display_name || person.email : `#${userId}`;
  };
  const run = async (work: () => Promise<void>) => {
    setError(null);
    try {
      await work();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const setRole = (userId: number, role: string | null) =>
    run(async () => setOverrides(await docsApi.setPermission(doc.id, userId, role)));

  return (
    <aside className="doc-versions doc-share" aria-label={t("share")} data-testid="doc-share">
      <header>
        <h3>{t("share")}</h3>
        <button type="button" onClick={onClose}>
          {t("closeVersions")}
        </button>
      </header>
      <label className="doc-share-row">
        <span>{doc.conversation_id !== null ? t("accessConversation") : t("accessWorkspace")}</span>
        <select
          value={access}
          onChange={(e) => {
            const next = e.target.value;
            void run(async () => setAccess((await docsApi.setDefaultAccess(doc.id, next)).default_access));
          }}
        >
          {ACCESS.map((a) => (
            <option key={a} value={a}>
              {t(`access_${a}` as DocsKey)}
            </option>
          ))}
        </select>
      </label>
      <h4>{t("people")}</h4>
      <ul>
        {overrides.map((o) => (
          <li key={o.user_id} className="doc-share-row">
            <span>{name(o.user_id)}</span>
            <select aria-label={name(o.user_id)} value={o.role} onChange={(e) => void setRole(o.user_id, e.target.value)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {t(`role_${r}` as DocsKey)}
                </option>
              ))}
            </select>
            <button type="button" aria-label={t("removeAccess")} onClick={() => void setRole(o.user_id, null)}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <form
        className="doc-version-save"
        onSubmit={(e) => {
          e.preventDefault();
          if (adding) void setRole(Number(adding), "edit").then(() => setAdding(""));
        }}
      >
        <select aria-label={t("addPerson")} value={adding} onChange={(e) => setAdding(e.target.value)}>
          <option value="">{t("addPerson")}</option>
          {people
            .filter((p) => !overrides.some((o) => o.user_id === p.user_id))
            .map((p) => (
              <option key={p.user_id} value={p.user_id}>
                {p.display_name || p.email}
              </option>
            ))}
        </select>
        <button type="submit" disabled={!adding}>
          {t("add")}
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </aside>
  );
}
