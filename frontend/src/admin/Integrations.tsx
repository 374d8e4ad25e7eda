// Integrations: the workspace's bots (create — token shown once —, new token, deactivate),
// their outgoing event subscriptions (Subscriptions.tsx) and slash commands
// (AppCommands.tsx), and the incoming webhooks of a conversation (create by kind — URL and
// secret shown once —, list, revoke). Credentials are never listed again: the API returns
// them only on creation.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { useHub } from "../hooks";
import { adminApi, WEBHOOK_KINDS, type Bot, type Webhook, type WebhookKind } from "./api";
import { useAdminT } from "./i18n";
import { AppCommands } from "./AppCommands";
import { SecretOnce } from "./SecretOnce";
import { Subscriptions } from "./Subscriptions";

function message(err: unknown, fallback: string): string {
  return err instanceof ApiError ? err.message : fallback;
}

export function Integrations({ workspaceId }: { workspaceId: number }) {
  // The bots list feeds the subscriptions form (a subscription sends as one of them).
  const [bots, setBots] = useState<Bot[]>([]);
  return (
    <section className="admin-section">
      <Bots workspaceId={workspaceId} onLoaded={setBots} />
      <Subscriptions workspaceId={workspaceId} bots={bots} />
      <AppCommands workspaceId={workspaceId} bots={bots} />
      <Webhooks />
    </section>
  );
}

function Bots({ workspaceId, onLoaded }: { workspaceId: number; onLoaded: (bots: Bot[]) => void }) {
  const t = useAdminT();
  const [bots, setBots] = useState<Bot[] | null>(null);
  const [name, setName] = useState("");
  const [issued, setIssued] = useState<{ botId: number; token: string } | null>(null);
  const [error, setError] = useState("");
  const load = useCallback(() => {
    adminApi.bots(workspaceId).then(
      (r) => {
        setBots(r.bots);
        onLoaded(r.bots);
      },
      (err: unknown) => setError(message(err, t("error"))),
    );
  }, [workspaceId, t, onLoaded]);
  useEffect(load, [load]);
  const act = async (action: () => Promise<void>) => {
    setError("");
    try {
      await action();
      load();
    } catch (err) {
      setError(message(err, t("error")));
    }
  };
  const create = (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    void act(async () => {
      const bot = await adminApi.createBot(workspaceId, name.trim());
      setIssued({ botId: bot.id, token: bot.token });
      setName("");
    });
  };
  return (
    <article className="admin-card" aria-label={t("bots")}>
      <h3>{t("bots")}</h3>
      {bots?.length === 0 && <p className="hint">{t("noBots")}</p>}
      <ul className="admin-list">
        {bots?.map((bot) => (
          <li key={bot.id} data-testid="bot" className="admin-row">
            <strong>{bot.name}</strong>
            {!bot.active && <span className="tag muted">{t("inactive")}</span>}
            {bot.active && (
              <div className="admin-buttons">
                <button
                  type="button"
                  className="secondary"
                  onClick={() =>
                    void act(async () => {
                      const rotated = await adminApi.rotateBot(workspaceId, bot.id);
                      setIssued({ botId: bot.id, token: rotated.token });
                    })
                  }
                >
                  {t("rotateToken")}
                </button>
                <button
                  type="button"
                  className="danger"
                  onClick={() => {
                    if (!window.confirm(t("confirmDeactivate", { name: bot.name }))) return;
                    void act(async () => {
                      await adminApi.deactivateBot(workspaceId, bot.id);
                      if (issued?.botId === bot.id) setIssued(null);
                    });
                  }}
                >
                  {t("deactivate")}
                </button>
              </div>
            )}
            {issued?.botId === bot.id && (
              <div className="issued" role="status">
                <p className="hint">{t("shownOnce")}</p>
                <SecretOnce label={t("token")} value={issued.token} testId="bot-token" />
              </div>
            )}
          </li>
        ))}
      </ul>
      <form className="admin-form" onSubmit={create} aria-label={t("newBot")}>
        <label>
          {t("botName")}
          <input value={name} maxLength={80} onChange={(e) => setName(e.target.value)} />
        </label>
        <div className="admin-buttons">
          <button type="submit" disabled={!name.trim()}>
            {t("newBot")}
          </button>
        </div>
      </form>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

function Webhooks() {
  const t = useAdminT();
  const lang = useHub((s) => s.lang);
  const conversations = useHub((s) => s.conversations).filter(
    (c) => (c.kind === "public" || c.kind === "private") && c.joined !== false && !c.archived,
  );
  const [conversationId, setConversationId] = useState<number>(conversations[0]?.id ?? 0);
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [kind, setKind] = useState<WebhookKind>("dingtalk");
  const [name, setName] = useState("");
  const [issued, setIssued] = useState<{ url: string; secret: string | null } | null>(null);
  const [error, setError] = useState("");
  const load = useCallback(() => {
    if (!conversationId) return;
    adminApi.webhooks(conversationId).then((r) => setHooks(r.webhooks), (err: unknown) => setError(message(err, t("error"))));
  }, [conversationId, t]);
  useEffect(() => {
    setIssued(null);
    load();
  }, [load]);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError("");
    try {
      const hook = await adminApi.createWebhook(conversationId, kind, name.trim());
      setIssued({ url: new URL(hook.url, location.origin).href, secret: hook.secret });
      setName("");
      load();
    } catch (err) {
      setError(message(err, t("error")));
    }
  };
  const revoke = async (hook: Webhook) => {
    if (!window.confirm(t("confirmRevoke", { name: hook.name }))) return;
    try {
      await adminApi.revokeWebhook(hook.id);
      load();
    } catch (err) {
      setError(message(err, t("error")));
    }
  };
  const when = (iso: string) => new Date(iso).toLocaleString(lang, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  return (
    <article className="admin-card" aria-label={t("webhooks")}>
      <h3>{t("webhooks")}</h3>
      <label className="admin-inline">
        {t("webhookConversation")}
        <select value={conversationId} onChange={(e) => setConversationId(Number(e.target.value))}>
          {conversations.map((c) => (
            <option key={c.id} value={c.id}>
              #{c.name}
            </option>
          ))}
        </select>
      </label>
      {hooks?.length === 0 && <p className="hint">{t("noWebhooks")}</p>}
      <ul className="admin-list">
        {hooks?.map((hook) => (
          <li key={hook.id} data-testid="webhook" className="admin-row">
            <strong>{hook.name}</strong>
            <span className="hint">{hook.kind}</span>
            <span className="hint">{hook.last_used_at ? t("lastUsed", { when: when(hook.last_used_at) }) : t("neverUsed")}</span>
            <div className="admin-buttons">
              <button type="button" className="danger" onClick={() => void revoke(hook)}>
                {t("revoke")}
              </button>
            </div>
          </li>
        ))}
      </ul>
      {issued && (
        <div className="issued" role="status">
          <p className="hint">{t("shownOnce")}</p>
          <SecretOnce label={t("webhookUrl")} value={issued.url} testId="webhook-url" />
          {issued.secret && <SecretOnce label={t("webhookSecret")} value={issued.secret} testId="webhook-secret" />}
        </div>
      )}
      <form className="admin-form" onSubmit={(e) => void create(e)} aria-label={t("newWebhook")}>
        <label>
          {t("webhookKind")}
          <select value={kind} onChange={(e) => setKind(e.target.value as WebhookKind)}>
            {WEBHOOK_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("webhookName")}
          <input value={name} maxLength={80} onChange={(e) => setName(e.target.value)} />
        </label>
        <div className="admin-buttons">
          <button type="submit" disabled={!name.trim() || !conversationId}>
            {t("newWebhook")}
          </button>
        </div>
      </form>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}
