// The live document card in a conversation: a message's `document` block (messaging/blocks.py)
// shown with the document's title, when and by whom it was last edited, and who has it open
// now, refreshed while the card is on screen. Clicking it opens the document.

import { useEffect, useState } from "react";
import { useHub } from "../hooks";
import type { MessageBlock } from "../types";
import { docsApi, type DocDetail } from "./api";
import { formatWhen, useDocsT } from "./i18n";
import "./list.css";
import { docPath, openDocPath } from "./route";

const REFRESH_MS = 20_000;

function DocCard({ documentId }: { documentId: number }) {
  const t = useDocsT();
  const lang = useHub((s) => s.lang);
  const [doc, setDoc] = useState<DocDetail | null>(null);
  const [gone, setGone] = useState(false);
  useEffect(() => {
    let live = true;
    const load = () => {
      if (document.visibilityState !== "visible") return;
      docsApi.get(documentId).then(
        (d) => live && setDoc(d),
        (e: { status?: number }) => live && e.status === 404 && setGone(true),
      );
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [documentId]);
  if (gone || doc === null) return null; // no access (or deleted): the link in the text remains
  const editors = doc.editors ?? [];
  const path = docPath(doc.workspace_id, doc.id);
  return (
    <a
      className="doc-card"
      href={path}
      data-testid="doc-card"
      onClick={(e) => {
        e.preventDefault();
        openDocPath(path);
      }}
    >
      <span className="doc-card-icon" aria-hidden="true">
        📄
      </span>
      <span className="doc-card-main">
        <strong className="doc-card-title">{doc.title}</strong>
        <span className="hint">
          {t("editedAt", { when: formatWhen(doc.updated_at, lang) })}
          {doc.last_editor ? ` · ${doc.last_editor.name}` : ""}
        </span>
        <span className="hint doc-card-here" data-testid="doc-card-here">
          {editors.length ? `${t("editingNow", { n: editors.length })}: ${editors.map((p) => p.name).join("、")}` : t("nobodyEditing")}
        </span>
      </span>
    </a>
  );
}

/** Every `document` block of a message, as live cards. */
export function DocumentBlocks({ blocks }: { blocks: MessageBlock[] | undefined }) {
  const ids = (blocks ?? [])
    .filter((b) => b.type === "document" && typeof b.document_id === "number")
    .map((b) => b.document_id as number);
  if (!ids.length) return null;
  return (
    <>
      {ids.map((id) => (
        <DocCard key={id} documentId={id} />
      ))}
    </>
  );
}
