// Documents matching the current search, shown above the message results (the document search
// is its own endpoint: GET /api/v1/documents/search, filtered by who may read each document).

import { useEffect, useState } from "react";
import { useClient, useHub } from "../hooks";
import { docsApi, type DocSearchHit } from "./api";
import { formatWhen, useDocsT } from "./i18n";
import { docPath, openDocPath } from "./route";

export function DocSearchHits() {
  const client = useClient();
  const t = useDocsT();
  const lang = useHub((s) => s.lang);
  const q = useHub((s) => s.search?.q ?? "");
  const workspaceId = useHub((s) => s.workspaceId);
  const [hits, setHits] = useState<DocSearchHit[]>([]);
  useEffect(() => {
    if (workspaceId === null || !q.trim()) {
      setHits([]);
      return;
    }
    let live = true;
    docsApi.search(workspaceId, q).then(
      (found) => live && setHits(found),
      () => live && setHits([]),
    );
    return () => {
      live = false;
    };
  }, [workspaceId, q]);
  if (!hits.length || workspaceId === null) return null;
  return (
    <section className="doc-hits" aria-label={t("documentResults")} data-testid="doc-search-hits">
      <h3>{t("documentResults")}</h3>
      <ul>
        {hits.map((hit) => (
          <li key={hit.id}>
            <a
              href={docPath(workspaceId, hit.id)}
              onClick={(e) => {
                e.preventDefault();
                client.closeSearch();
                openDocPath(docPath(workspaceId, hit.id));
              }}
            >
              📄 <strong>{hit.title}</strong>{" "}
              <time className="hint" dateTime={hit.updated_at}>
                {formatWhen(hit.updated_at, lang)}
              </time>
            </a>
            {/* Escaped by the server, matches wrapped in <mark>. */}
            <div className="snippet" dangerouslySetInnerHTML={{ __html: hit.snippet }} />
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The header's way into the documents of the current workspace. */
export function DocsLink() {
  const t = useDocsT();
  const workspaceId = useHub((s) => s.workspaceId);
  if (workspaceId === null) return null;
  return (
    <a
      className="docs-link"
      href={docPath(workspaceId, null)}
      data-testid="docs-link"
      aria-label={t("documents")}
      title={t("documents")}
      onClick={(e) => {
        e.preventDefault();
        openDocPath(docPath(workspaceId, null));
      }}
    >
      <span aria-hidden="true">📄</span>
      {/* The word goes on phones: the header has no room for it at 360 px. */}
      <span className="docs-link-text">{t("documents")}</span>
    </a>
  );
}
