// The documents screens: the list of a workspace's documents and one open document. The
// editor itself (Tiptap + Yjs, ~100 KB gzip) is a separate chunk loaded on first open, so the
// chat's first load does not carry it.

import { lazy, Suspense, useCallback, useEffect, useState } from "react";
import { ApiError } from "../api";
import { useHub } from "../hooks";
import { docsApi, type DocDetail, type DocSummary } from "./api";
import { formatWhen, useDocsT } from "./i18n";
import "./list.css";
import { docPath, openDocPath, type DocRoute } from "./route";

const DocEditorPage = lazy(() => import("./DocEditorPage"));

export function DocsScreen({ route }: { route: DocRoute }) {
  return route.documentId === null ? (
    <DocsList workspaceId={route.workspaceId} />
  ) : (
    <DocScreen key={route.documentId} workspaceId={route.workspaceId} documentId={route.documentId} />
  );
}

function conversationName(conversations: { id: number; name: string }[], id: number | null): string | null {
  if (id === null) return null;
  return conversations.find((c) => c.id === id)?.name ?? null;
}

export function DocsList({ workspaceId }: { workspaceId: number }) {
  const t = useDocsT();
  const lang = useHub((s) => s.lang);
  const conversations = useHub((s) => s.conversations);
  const [docs, setDocs] = useState<DocSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [title, setTitle] = useState("");
  const [where, setWhere] = useState("");
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    docsApi
      .list(workspaceId)
      .then(setDocs)
      .catch((e: Error) => setError(e.message));
  }, [workspaceId]);
  useEffect(load, [load]);

  const create = async (event: React.FormEvent) => {
    event.preventDefault();
    const name = title.trim();
    if (!name || busy) return;
    setBusy(true);
    try {
      // In a conversation, the server also posts a card there linking the document.
      const conversationId = where ? Number(where) : null;
      const created = await docsApi.create({ workspace_id: workspaceId, title: name, conversation_id: conversationId });
      setTitle("");
      openDocPath(docPath(workspaceId, created.id));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="docs-list" aria-label={t("documents")}>
      <header className="conv-head">
        <h2>{t("documents")}</h2>
      </header>
      <form className="docs-create" onSubmit={(e) => void create(e)}>
        <input
          aria-label={t("titlePlaceholder")}
          placeholder={t("titlePlaceholder")}
          value={title}
          maxLength={200}
          onChange={(e) => setTitle(e.target.value)}
        />
        <select aria-label={t("shareTo")} value={where} onChange={(e) => setWhere(e.target.value)}>
          <option value="">{t("noConversation")}</option>
          {conversations
            .filter((c) => c.joined !== false && !c.archived)
            .map((c) => (
              <option key={c.id} value={c.id}>
                {c.kind === "dm" || c.kind === "group" ? c.name : `#${c.name}`}
              </option>
            ))}
        </select>
        <button type="submit" disabled={busy || !title.trim()}>
          {t("newDocument")}
        </button>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      {docs === null ? (
        <p className="hint">…</p>
      ) : docs.length === 0 ? (
        <p className="hint">{t("noDocuments")}</p>
      ) : (
        <ul className="docs-items">
          {docs.map((doc) => {
            const where = conversationName(conversations, doc.conversation_id);
            return (
              <li key={doc.id}>
                <a
                  href={docPath(workspaceId, doc.id)}
                  className="doc-item"
                  data-testid="doc-item"
                  onClick={(e) => {
                    e.preventDefault();
                    openDocPath(docPath(workspaceId, doc.id));
                  }}
                >
                  <span className="doc-icon" aria-hidden="true">
                    📄
                  </span>
                  <span className="doc-title">{doc.title}</span>
                  {where && <span className="hint">{t("inConversation", { name: `#${where}` })}</span>}
                  <time className="hint" dateTime={doc.updated_at}>
                    {t("editedAt", { when: formatWhen(doc.updated_at, lang) })}
                  </time>
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function DocScreen({ workspaceId, documentId }: { workspaceId: number; documentId: number }) {
  const t = useDocsT();
  const [doc, setDoc] = useState<DocDetail | null>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    let live = true;
    const key = `hub.doc.${documentId}`;
    docsApi.get(documentId).then(
      (d) => {
        if (!live) return;
        setDoc(d);
        // Kept so that the document opens offline next time (its content is in IndexedDB).
        localStorage.setItem(key, JSON.stringify(d));
      },
      (error: unknown) => {
        if (!live) return;
        const cached = error instanceof ApiError ? null : localStorage.getItem(key);
        if (cached) setDoc(JSON.parse(cached) as DocDetail);
        else setMissing(true);
      },
    );
    return () => {
      live = false;
    };
  }, [documentId]);
  if (missing) {
    return (
      <div className="empty" role="alert">
        {t("notFound")}
      </div>
    );
  }
  if (doc === null) return <div className="empty">{t("loadingEditor")}</div>;
  return (
    <Suspense fallback={<div className="empty">{t("loadingEditor")}</div>}>
      <DocEditorPage workspaceId={workspaceId} doc={doc} />
    </Suspense>
  );
}
