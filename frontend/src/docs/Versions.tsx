// Version history: named, automatic and "before restore" versions; preview one (the server
// renders it to sanitised HTML); save the current state as a named version; restore one
// (the server turns it into a new edit and tells every open editor to reload).

import { useCallback, useEffect, useState } from "react";
import { useHub } from "../hooks";
import { docsApi, type DocVersion, type DocVersionDetail } from "./api";
import { formatWhen, useDocsT, type DocsKey } from "./i18n";

export function VersionsPanel({
  documentId,
  canRestore,
  onClose,
}: {
  documentId: number;
  canRestore: boolean;
  onClose: () => void;
}) {
  const t = useDocsT();
  const lang = useHub((s) => s.lang);
  const [versions, setVersions] = useState<DocVersion[] | null>(null);
  const [preview, setPreview] = useState<DocVersionDetail | null>(null);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    docsApi
      .versions(documentId)
      .then(setVersions)
      .catch((e: Error) => setError(e.message));
  }, [documentId]);
  useEffect(load, [load]);

  const save = async (event: React.FormEvent) => {
    event.preventDefault();
    try {
      await docsApi.saveVersion(documentId, name.trim());
      setName("");
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const restore = async (version: DocVersion) => {
    if (!window.confirm(t("restoreConfirm"))) return;
    try {
      await docsApi.restore(documentId, version.id);
      // Every open editor (this one too) is closed with 4409 and reloads the restored text.
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <aside className="doc-versions" aria-label={t("versions")} data-testid="doc-versions">
      <header>
        <h3>{t("versions")}</h3>
        <button type="button" onClick={onClose}>
          {t("closeVersions")}
        </button>
      </header>
      {canRestore && (
        <form onSubmit={(e) => void save(e)} className="doc-version-save">
          <input
            aria-label={t("versionName")}
            placeholder={t("versionName")}
            value={name}
            maxLength={120}
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit">{t("saveVersion")}</button>
        </form>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      {versions !== null && versions.length === 0 && <p className="hint">{t("noVersions")}</p>}
      <ul>
        {(versions ?? []).map((v) => (
          <li key={v.id} className={preview?.id === v.id ? "active" : undefined}>
            <button
              type="button"
              className="doc-version"
              onClick={() => void docsApi.version(documentId, v.id).then(setPreview, (e: Error) => setError(e.message))}
            >
              <strong>{v.name || formatWhen(v.created_at, lang)}</strong>
              <span className="hint">
                {t(`kind_${v.kind}` as DocsKey)} · {formatWhen(v.created_at, lang)}
              </span>
            </button>
            {preview?.id === v.id && canRestore && (
              <button type="button" className="doc-restore" onClick={() => void restore(v)}>
                {t("restore")}
              </button>
            )}
          </li>
        ))}
      </ul>
      {preview && (
        <div className="doc-version-preview" aria-label={t("preview")}>
          {/* HTML rendered and sanitised by the server (hub.rendering.sanitize_html). */}
          <div dangerouslySetInnerHTML={{ __html: preview.html }} />
        </div>
      )}
    </aside>
  );
}
