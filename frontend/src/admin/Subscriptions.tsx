// Outgoing event subscriptions: a bot's events (messages, mentions, reactions, joins in the
// conversations it is in) POSTed to an app's URL, signed with a secret shown once. Each has
// its delivery log; the server disables one after repeated failures and says why.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { adminApi, EVENT_TYPES, type Bot, type Delivery, type Subscription } from "./api";
import { useAdminT, type AdminKey } from "./i18n";
import { SecretOnce } from "./SecretOnce";

function message(err: unknown, fallback: string): string {
  return err instanceof ApiError ? err.message : fallback;
}

export function Subscriptions({ workspaceId, bots }: { workspaceId: number; bots: Bot[] }) {
  const t = useAdminT();
  const [subs, setSubs] = useState<Subscription[] | null>(null);
  const [issued, setIssued] = useState<{ id: number; secret: string } | null>(null);
  const [error, setError] = useState("");
  const load = useCallback(() => {
    adminApi.subscriptions(workspaceId).then((r) => setSubs(r.subscriptions), (err: unknown) => setError(message(err, t("error"))));
  }, [workspaceId, t]);
  useEffect(load, [load]);
  const act = async (action: () => Promise<unknown>) => {
    setError("");
    try {
      await action();
      load();
    } catch (err) {
      setError(message(err, t("error")));
    }
  };
  const botName = (id: number) => bots.find((b) => b.id === id)?.name ?? `#${id}`;
  return (
    <article className="admin-card" aria-label={t("subscriptions")}>
      <h3>{t("subscriptions")}</h3>
      <ul className="admin-list">
        {subs?.map((sub) => (
          <li key={sub.id} className="admin-row" data-testid="subscription">
            <strong className="admin-url">{sub.url}</strong>
            <span className="hint">
              {botName(sub.bot_user_id)} · {sub.events.map((e) => t(`event_${e}` as AdminKey)).join("、")}
            </span>
            {!sub.active && (
              <span className="tag muted">{sub.disabled_reason ? t("disabledBecause", { reason: sub.disabled_reason }) : t("disabled")}</span>
            )}
            {sub.failure_streak > 0 && <span className="form-error">{t("failures", { n: sub.failure_streak })}</span>}
            <div className="admin-buttons">
              <button type="button" className="secondary" onClick={() => void act(() => adminApi.setSubscriptionActive(sub.id, !sub.active))}>
                {sub.active ? t("disable") : t("enable")}
              </button>
              <button
                type="button"
                className="danger"
                onClick={() => window.confirm(t("confirmDeleteSubscription", { url: sub.url })) && void act(() => adminApi.deleteSubscription(sub.id))}
              >
                {t("delete")}
              </button>
            </div>
            {issued?.id === sub.id && (
              <div className="issued" role="status">
                <p className="hint">{t("shownOnce")}</p>
                <SecretOnce label={t("subscriptionSecret")} value={issued.secret} testId="subscription-secret" />
              </div>
            )}
            <DeliveryLog subscriptionId={sub.id} />
          </li>
        ))}
      </ul>
      {bots.some((b) => b.active) ? (
        <NewSubscription
          workspaceId={workspaceId}
          bots={bots.filter((b) => b.active)}
          onCreated={(id, secret) => {
            setIssued({ id, secret });
            load();
          }}
        />
      ) : (
        <p className="hint">{t("needBot")}</p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

function NewSubscription({
  workspaceId,
  bots,
  onCreated,
}: {
  workspaceId: number;
  bots: Bot[];
  onCreated: (id: number, secret: string) => void;
}) {
  const t = useAdminT();
  const [botId, setBotId] = useState(bots[0].id);
  const [url, setUrl] = useState("https://");
  const [events, setEvents] = useState<string[]>(["message"]);
  const [error, setError] = useState("");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError("");
    try {
      const created = await adminApi.createSubscription(workspaceId, botId, url.trim(), events);
      setUrl("https://");
      onCreated(created.id, created.secret);
    } catch (err) {
      setError(message(err, t("error")));
    }
  };
  return (
    <form className="admin-form" onSubmit={(e) => void submit(e)} aria-label={t("newSubscription")}>
      <label>
        {t("subscriptionBot")}
        <select value={botId} onChange={(e) => setBotId(Number(e.target.value))}>
          {bots.map((b) => (
            <option key={b.id} value={b.id}>
              {b.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("subscriptionUrl")}
        <input type="url" required value={url} onChange={(e) => setUrl(e.target.value)} />
      </label>
      <fieldset>
        <legend>{t("subscriptionEvents")}</legend>
        {EVENT_TYPES.map((type) => (
          <label key={type} className="check">
            <input
              type="checkbox"
              checked={events.includes(type)}
              onChange={(e) => setEvents(e.target.checked ? [...events, type] : events.filter((x) => x !== type))}
            />
            {t(`event_${type}` as AdminKey)}
          </label>
        ))}
      </fieldset>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="admin-buttons">
        <button type="submit" disabled={!events.length || url.trim().length < 9}>
          {t("newSubscription")}
        </button>
      </div>
    </form>
  );
}

function DeliveryLog({ subscriptionId }: { subscriptionId: number }) {
  const t = useAdminT();
  const [rows, setRows] = useState<Delivery[] | null>(null);
  // Loaded when opened: most people never look, and each log is its own request.
  const onToggle = (open: boolean) => {
    if (open) adminApi.deliveries(subscriptionId).then((r) => setRows(r.deliveries), () => setRows([]));
  };
  return (
    <details className="delivery-log" onToggle={(e) => onToggle(e.currentTarget.open)}>
      <summary>{t("deliveryLog")}</summary>
      {rows === null ? (
        <p className="hint">{t("loading")}</p>
      ) : rows.length === 0 ? (
        <p className="hint">{t("noDeliveries")}</p>
      ) : (
        <table className="admin-table" data-testid="deliveries">
          <thead>
            <tr>
              <th scope="col">{t("deliveryEvent")}</th>
              <th scope="col">{t("deliveryStatus")}</th>
              <th scope="col">{t("deliveryAttempts")}</th>
              <th scope="col">{t("deliveryResult")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id}>
                <td>{row.event_type}</td>
                <td>{row.status}</td>
                <td>{row.attempts}</td>
                <td>{row.last_status_code ?? ""} {row.last_error}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
