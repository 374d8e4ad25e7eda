// The notification settings screen: preview, Web Push for this device, and forwarding targets
// with a "send test" button each (docs/notifications.md). Opened from the header.

import { useCallback, useEffect, useState, useSyncExternalStore, type FormEvent } from "react";
import { ApiError } from "../api";
import { parseRoute } from "../client";
import { useClient, useHub } from "../hooks";
import { notifyApi, type Preview, type PushSubscriptionInfo, type Target, type TargetKind } from "./api";
import { disablePush, enablePush, pushState, syncPush, type PushState } from "./push";
import { useNT } from "./strings";
import { KIND_HINTS, KINDS, validateTargetInput } from "./targets";
import "./notify.css";

// --- open / closed, shared by the header button and the main area -----------------------------
let open = false;
const listeners = new Set<() => void>();
function setOpen(value: boolean): void {
  open = value;
  listeners.forEach((l) => l());
}
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
export function useNotifySettingsOpen(): boolean {
  return useSyncExternalStore(subscribe, () => open);
}
export function closeNotifySettings(): void {
  setOpen(false);
}

/** Header button. Also, once per app start: re-sync this browser's push subscription, and
 * route clicks on push notifications (the service worker posts {type: "hub.open", path}). */
export function NotifyButton() {
  const client = useClient();
  const nt = useNT();
  const activeId = useHub((s) => s.activeId);
  useEffect(() => setOpen(false), [activeId]); // choosing a conversation leaves the settings
  useEffect(() => {
    void syncPush();
    if (!("serviceWorker" in navigator)) return;
    const onMessage = (event: MessageEvent) => {
      const data = event.data as { type?: string; path?: string } | null;
      if (data?.type !== "hub.open" || typeof data.path !== "string") return;
      setOpen(false);
      const route = parseRoute(data.path);
      if (route.workspaceId !== null) client.navigate(route);
    };
    navigator.serviceWorker.addEventListener("message", onMessage);
    return () => navigator.serviceWorker.removeEventListener("message", onMessage);
  }, [client]);
  return (
    <button
      type="button"
      className="notify-open"
      data-testid="notify-settings-open"
      aria-label={nt("open")}
      title={nt("open")}
      onClick={() => setOpen(!open)}
    >
      <span className="notify-open-long">{nt("open")}</span>
      <span className="notify-open-short" aria-hidden="true">
        🔔
      </span>
    </button>
  );
}

function errorText(error: unknown): string {
  return error instanceof ApiError ? error.message : String(error);
}

function when(iso: string | null, lang: string): string {
  return iso ? new Date(iso).toLocaleString(lang === "en" ? "en" : "zh-CN") : "";
}

function PreviewSection() {
  const nt = useNT();
  const [preview, setPreview] = useState<Preview | null>(null);
  useEffect(() => {
    void notifyApi.prefs().then((p) => setPreview(p.push_preview));
  }, []);
  const choose = (value: Preview) => {
    setPreview(value);
    void notifyApi.setPreview(value);
  };
  return (
    <fieldset className="notify-section" data-testid="notify-preview">
      <legend>{nt("preview")}</legend>
      {(["none", "sender", "first_line"] as Preview[]).map((value) => (
        <label key={value} className="notify-radio">
          <input type="radio" name="push_preview" checked={preview === value} onChange={() => choose(value)} />
          {nt(`preview_${value}`)}
        </label>
      ))}
      <p className="hint">{nt("previewNote")}</p>
    </fieldset>
  );
}

function PushSection() {
  const nt = useNT();
  const [state, setState] = useState<PushState | null>(null);
  const [devices, setDevices] = useState<PushSubscriptionInfo[]>([]);
  const [message, setMessage] = useState("");
  const reload = useCallback(async () => {
    setState(await pushState());
    setDevices((await notifyApi.push()).subscriptions);
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  const run = async (action: () => Promise<unknown>) => {
    setMessage("");
    try {
      await action();
    } catch (error) {
      setMessage(errorText(error));
    }
    await reload();
  };
  const test = () =>
    run(async () => {
      const { results } = await notifyApi.testPush();
      const failed = results.filter((r) => !r.ok);
      setMessage(failed.length ? nt("testFailed", { detail: failed.map((r) => r.detail).join("; ") }) : nt("testOk"));
    });
  return (
    <section className="notify-section" data-testid="notify-push">
      <h3>{nt("pushTitle")}</h3>
      {state === "on" && <p>{nt("pushOn")}</p>}
      {state === "off" && <p>{nt("pushOff")}</p>}
      {state === "denied" && <p>{nt("pushDenied")}</p>}
      {state === "unsupported" && <p>{nt("pushUnsupported")}</p>}
      <div className="notify-actions">
        {state === "off" && (
          <button type="button" onClick={() => void run(async () => setState(await enablePush()))}>
            {nt("pushEnable")}
          </button>
        )}
        {state === "on" && (
          <button type="button" onClick={() => void run(async () => setState(await disablePush()))}>
            {nt("pushDisable")}
          </button>
        )}
        {devices.length > 0 && (
          <button type="button" onClick={() => void test()}>
            {nt("pushTest")}
          </button>
        )}
      </div>
      {message && <p className="notify-result">{message}</p>}
      <p className="hint">{nt("pushChinaNote")}</p>
      {devices.length > 0 && (
        <ul className="notify-list" aria-label={nt("devices")}>
          {devices.map((d) => (
            <li key={d.id}>
              <span>
                {d.host} · {d.user_agent.slice(0, 60)}
              </span>
              {d.last_error && <span className="notify-error">{nt("lastError", { detail: d.last_error })}</span>}
              <button type="button" onClick={() => void run(() => notifyApi.removeSubscription(d.id))}>
                {nt("remove")}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function TargetRow({ target, onChange }: { target: Target; onChange: () => void }) {
  const nt = useNT();
  const lang = useHub((s) => s.lang);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const test = async () => {
    setBusy(true);
    setResult(null);
    try {
      const trial = await notifyApi.testTarget(target.id);
      setResult({ ok: trial.ok, text: trial.ok ? nt("testOk") : nt("testFailed", { detail: trial.detail }) });
    } catch (error) {
      setResult({ ok: false, text: nt("testFailed", { detail: errorText(error) }) });
    }
    setBusy(false);
    onChange();
  };
  return (
    <li className="notify-target" data-testid="notify-target">
      <div className="notify-target-head">
        <strong>{target.label || nt(`kind_${target.kind}`)}</strong>
        <span className="muted-text">
          {nt(`kind_${target.kind}`)} · {target.masked}
          {target.has_secret ? ` · ${nt("signed")}` : ""}
        </span>
      </div>
      <div className="notify-target-state">
        {target.last_success_at && <span>{nt("lastOk", { when: when(target.last_success_at, lang) })}</span>}
        {target.last_error && <span className="notify-error">{nt("lastError", { detail: target.last_error })}</span>}
      </div>
      <div className="notify-actions">
        <label className="notify-toggle">
          <input
            type="checkbox"
            checked={target.enabled}
            onChange={(e) => void notifyApi.updateTarget(target.id, { enabled: e.target.checked }).then(onChange)}
          />
          {target.enabled ? nt("enabled") : nt("disabled")}
        </label>
        <button type="button" data-testid="notify-test" disabled={busy} onClick={() => void test()}>
          {busy ? nt("testing") : nt("sendTest")}
        </button>
        <button type="button" onClick={() => void notifyApi.removeTarget(target.id).then(onChange)}>
          {nt("remove")}
        </button>
      </div>
      {result && (
        <p className={result.ok ? "notify-result ok" : "notify-result notify-error"} role="status" data-testid="notify-test-result">
          {result.text}
        </p>
      )}
    </li>
  );
}

function AddTargetForm({ onAdded }: { onAdded: () => void }) {
  const nt = useNT();
  const [kind, setKind] = useState<TargetKind>("wecom");
  const [label, setLabel] = useState("");
  const [url, setUrl] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState("");
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = validateTargetInput(kind, url);
    if (problem) {
      setError(nt(problem));
      return;
    }
    try {
      await notifyApi.addTarget({ kind, label, url: url.trim(), secret: KIND_HINTS[kind].signed ? secret.trim() : "" });
      setLabel("");
      setUrl("");
      setSecret("");
      setError("");
      onAdded();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const urlLabel = kind === "email" ? nt("address") : kind === "apprise" ? nt("appriseUrl") : nt("url");
  return (
    <form className="notify-form" onSubmit={(e) => void submit(e)} data-testid="notify-add">
      <h4>{nt("addTarget")}</h4>
      <label>
        {nt("kind")}
        <select value={kind} onChange={(e) => setKind(e.target.value as TargetKind)} name="kind">
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {nt(`kind_${k}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {nt("label")}
        <input name="label" value={label} maxLength={60} onChange={(e) => setLabel(e.target.value)} />
      </label>
      <label>
        {urlLabel}
        <input
          name="url"
          value={url}
          maxLength={2000}
          placeholder={KIND_HINTS[kind].example}
          autoComplete="off"
          onChange={(e) => setUrl(e.target.value)}
        />
      </label>
      {KIND_HINTS[kind].signed && (
        <label>
          {nt("secret")}
          <input name="secret" type="password" value={secret} autoComplete="off" onChange={(e) => setSecret(e.target.value)} />
        </label>
      )}
      {error && (
        <p className="form-error notify-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit">{nt("add")}</button>
    </form>
  );
}

function ForwardSection() {
  const nt = useNT();
  const [targets, setTargets] = useState<Target[] | null>(null);
  const reload = useCallback(() => {
    void notifyApi.targets().then(setTargets);
  }, []);
  useEffect(reload, [reload]);
  return (
    <section className="notify-section" data-testid="notify-forward">
      <h3>{nt("forwardTitle")}</h3>
      {targets && targets.length === 0 && <p className="hint">{nt("noTargets")}</p>}
      <ul className="notify-list">
        {(targets ?? []).map((t) => (
          <TargetRow key={t.id} target={t} onChange={reload} />
        ))}
      </ul>
      <AddTargetForm onAdded={reload} />
    </section>
  );
}

export function NotifySettings() {
  const nt = useNT();
  return (
    <div className="notify-settings" data-testid="notify-settings">
      <header className="panel-head">
        <h2>{nt("title")}</h2>
        <span className="spacer" />
        <button type="button" className="close" aria-label={nt("close")} onClick={() => setOpen(false)}>
          ×
        </button>
      </header>
      <div className="notify-body">
        <p className="hint">{nt("intro")}</p>
        <PreviewSection />
        <PushSection />
        <ForwardSection />
      </div>
    </div>
  );
}
