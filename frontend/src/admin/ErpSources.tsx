// ERP sources: the list (ERP-lite, the embedded default, is always there), each with its
// sync lag and per-type status, "test connection" and "sync now"; a form to add an Odoo or
// REST/ERPNext source or edit one. Credentials are write-only: shown masked, never prefilled.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { adminApi, type Source, type SourceWrite, type SyncStatus } from "./api";
import { useAdminT, type AdminKey } from "./i18n";
import { credentialsPatch, lagParts, parseConfig, SOURCE_KINDS } from "./logic";

function errorText(err: unknown, fallback: string): string {
  return err instanceof ApiError ? err.message : fallback;
}

export function ErpSources({ workspaceId }: { workspaceId: number }) {
  const t = useAdminT();
  const [sources, setSources] = useState<Source[] | null>(null);
  const [error, setError] = useState("");
  const [adding, setAdding] = useState(false);
  const load = useCallback(() => {
    setError("");
    adminApi.sources(workspaceId).then(setSources, (err: unknown) => setError(errorText(err, t("error"))));
  }, [workspaceId, t]);
  useEffect(load, [load]);
  return (
    <section className="admin-section" aria-label={t("erp")}>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {sources === null && !error && <p className="hint">{t("loading")}</p>}
      <ul className="admin-list">
        {sources?.map((source) => (
          <li key={source.id}>
            <SourceItem source={source} onChanged={load} />
          </li>
        ))}
      </ul>
      {adding ? (
        <SourceForm
          workspaceId={workspaceId}
          source={null}
          onDone={() => {
            setAdding(false);
            load();
          }}
        />
      ) : (
        <div className="admin-buttons">
          <button type="button" onClick={() => setAdding(true)}>
            {t("newSource")}
          </button>
        </div>
      )}
    </section>
  );
}

function SourceItem({ source, onChanged }: { source: Source; onChanged: () => void }) {
  const t = useAdminT();
  const [editing, setEditing] = useState(false);
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);
  const loadStatus = useCallback(() => {
    adminApi.syncStatus(source.id).then(setStatus, () => setStatus(null));
  }, [source.id]);
  useEffect(loadStatus, [loadStatus]);

  const run = async (action: () => Promise<string>) => {
    setBusy(true);
    setNotice("");
    try {
      setNotice(await action());
    } catch (err) {
      setNotice(errorText(err, t("error")));
    } finally {
      setBusy(false);
    }
  };
  const test = () =>
    run(async () => {
      const health = await adminApi.testSource(source.id);
      return health.ok
        ? t("testOk", { ms: Math.round(health.latency_ms ?? 0) })
        : t("testFailed", { detail: health.detail });
    });
  const sync = () =>
    run(async () => {
      setStatus(await adminApi.syncNow(source.id));
      return t("syncStarted");
    });

  const lag = lagParts(status?.lag_seconds ?? null);
  return (
    <article className="admin-card" data-testid="erp-source" data-kind={source.kind}>
      <header>
        <strong>{source.name}</strong>
        <span className="hint">{t(`kind_${source.kind}` as AdminKey)}</span>
        {source.is_default && <span className="tag">{t("default")}</span>}
        {!source.enabled && <span className="tag muted">{t("disabled")}</span>}
      </header>
      {Object.keys(source.credentials).length > 0 && (
        <dl className="admin-masked">
          {Object.entries(source.credentials).map(([key, masked]) => (
            <div key={key}>
              <dt>{key}</dt>
              <dd>{masked}</dd>
            </div>
          ))}
        </dl>
      )}
      {!source.credentials_readable && <p className="form-error">{t("credentialsUnreadable")}</p>}
      <p className="hint" data-testid="sync-lag">
        {t("syncStatus")}: {lag ? t("lag", { n: lag.n, unit: t(`unit_${lag.unit}` as AdminKey) }) : t("lagUnknown")}
      </p>
      {status && status.states.length > 0 && (
        <ul className="sync-states">
          {status.states.map((state) => (
            <li key={state.record_type}>
              {state.record_type}: {t("recordsSynced", { n: state.records_synced })}
              {state.last_error && <span className="form-error"> {t("lastError", { error: state.last_error })}</span>}
            </li>
          ))}
        </ul>
      )}
      <div className="admin-buttons">
        <button type="button" disabled={busy} onClick={() => void test()}>
          {t("testConnection")}
        </button>
        <button type="button" disabled={busy || !source.enabled} onClick={() => void sync()}>
          {t("syncNow")}
        </button>
        <button type="button" className="secondary" aria-expanded={editing} onClick={() => setEditing(!editing)}>
          {t("edit")}
        </button>
      </div>
      <p role="status" aria-live="polite" className="hint" data-testid="source-notice">
        {notice}
      </p>
      {editing && (
        <SourceForm
          workspaceId={source.workspace}
          source={source}
          onDone={() => {
            setEditing(false);
            onChanged();
          }}
        />
      )}
    </article>
  );
}

function SourceForm({ workspaceId, source, onDone }: { workspaceId: number; source: Source | null; onDone: () => void }) {
  const t = useAdminT();
  const [kind, setKind] = useState<"odoo" | "rest">(source?.kind === "rest" ? "rest" : "odoo");
  const [name, setName] = useState(source?.name ?? "");
  const [config, setConfig] = useState(JSON.stringify(source?.config ?? SOURCE_KINDS.odoo.config, null, 2));
  const [typed, setTyped] = useState<Record<string, string>>({});
  const [enabled, setEnabled] = useState(source?.enabled ?? true);
  const [isDefault, setDefault] = useState(source?.is_default ?? false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const builtin = source?.kind === "builtin";
  const credentialKeys =
    source === null ? SOURCE_KINDS[kind].credentials : [...new Set([...Object.keys(source.credentials), ...(SOURCE_KINDS[source.kind as "odoo" | "rest"]?.credentials ?? [])])];

  const chooseKind = (next: "odoo" | "rest") => {
    setKind(next);
    setConfig(JSON.stringify(SOURCE_KINDS[next].config, null, 2));
    setTyped({});
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = builtin ? undefined : parseConfig(config);
    if (parsed === null) {
      setError(t("configInvalid"));
      return;
    }
    const body: SourceWrite = { name: name.trim(), enabled, is_default: isDefault, credentials: credentialsPatch(typed) };
    if (parsed) body.config = parsed;
    setBusy(true);
    setError("");
    try {
      if (source) await adminApi.updateSource(source.id, body);
      else await adminApi.createSource({ ...body, workspace: workspaceId, kind });
      onDone();
    } catch (err) {
      setError(errorText(err, t("error")));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="admin-form" onSubmit={(e) => void submit(e)} aria-label={source ? `${t("edit")} ${source.name}` : t("newSource")}>
      {source === null && (
        <label>
          {t("kind")}
          <select value={kind} onChange={(e) => chooseKind(e.target.value as "odoo" | "rest")}>
            <option value="odoo">{t("kind_odoo")}</option>
            <option value="rest">{t("kind_rest")}</option>
          </select>
        </label>
      )}
      <label>
        {t("name")}
        <input value={name} required maxLength={80} onChange={(e) => setName(e.target.value)} />
      </label>
      {!builtin && (
        <label>
          {t("config")}
          <textarea rows={5} value={config} spellCheck={false} onChange={(e) => setConfig(e.target.value)} />
        </label>
      )}
      {credentialKeys.length > 0 && (
        <fieldset>
          <legend>{t("credentials")}</legend>
          <p className="hint">{t("credentialsHint")}</p>
          {credentialKeys.map((key) => (
            <label key={key}>
              {key}
              <input
                type="password"
                autoComplete="new-password"
                placeholder={source?.credentials[key] ?? ""}
                value={typed[key] ?? ""}
                onChange={(e) => setTyped({ ...typed, [key]: e.target.value })}
              />
            </label>
          ))}
        </fieldset>
      )}
      <label className="check">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        {t("enabled")}
      </label>
      <label className="check">
        <input type="checkbox" checked={isDefault} onChange={(e) => setDefault(e.target.checked)} />
        {t("makeDefault")}
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="admin-buttons">
        <button type="submit" disabled={busy || !name.trim()}>
          {source ? t("save") : t("create")}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          {t("cancel")}
        </button>
      </div>
    </form>
  );
}
