// Slash commands of external apps: `/name` in a conversation is POSTed to the app's URL (as
// the chosen bot); the app answers at once or later through response_url (a late answer
// reaches the person as a command.reply frame — crm/lateReplies.ts). Token and signing
// secret are shown once, on creation.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { adminApi, type AppCommand, type Bot } from "./api";
import { useAdminT } from "./i18n";
import { SecretOnce } from "./SecretOnce";

export function AppCommands({ workspaceId, bots }: { workspaceId: number; bots: Bot[] }) {
  const t = useAdminT();
  const active = bots.filter((b) => b.active);
  const [commands, setCommands] = useState<AppCommand[] | null>(null);
  const [form, setForm] = useState({ bot_id: 0, name: "", url: "https://", usage: "", description: "" });
  const [issued, setIssued] = useState<{ token: string; signing_secret: string } | null>(null);
  const [error, setError] = useState("");
  const load = useCallback(() => {
    adminApi.appCommands(workspaceId).then((r) => setCommands(r.commands), () => setCommands([]));
  }, [workspaceId]);
  useEffect(load, [load]);
  const botId = form.bot_id || active[0]?.id || 0;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError("");
    try {
      const created = await adminApi.createAppCommand(workspaceId, { ...form, bot_id: botId, name: form.name.trim().replace(/^\//, "") });
      setIssued({ token: created.token, signing_secret: created.signing_secret });
      setForm({ ...form, name: "", url: "https://", usage: "", description: "" });
      load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t("error"));
    }
  };
  const remove = async (command: AppCommand) => {
    if (!window.confirm(t("confirmDeleteCommand", { name: command.name }))) return;
    try {
      await adminApi.deleteAppCommand(command.id);
      load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t("error"));
    }
  };
  return (
    <article className="admin-card" aria-label={t("appCommands")}>
      <h3>{t("appCommands")}</h3>
      {commands?.length === 0 && <p className="hint">{t("noAppCommands")}</p>}
      <ul className="admin-list">
        {commands?.map((command) => (
          <li key={command.id} className="admin-row" data-testid="app-command">
            <code>/{command.name}</code>
            <span className="hint admin-url">{command.url}</span>
            {command.description && <span className="hint">{command.description}</span>}
            <div className="admin-buttons">
              <button type="button" className="danger" onClick={() => void remove(command)}>
                {t("delete")}
              </button>
            </div>
          </li>
        ))}
      </ul>
      {issued && (
        <div className="issued" role="status">
          <p className="hint">{t("shownOnce")}</p>
          <SecretOnce label={t("commandToken")} value={issued.token} testId="command-token" />
          <SecretOnce label={t("commandSecret")} value={issued.signing_secret} testId="command-secret" />
        </div>
      )}
      {active.length === 0 ? (
        <p className="hint">{t("needBot")}</p>
      ) : (
        <form className="admin-form" onSubmit={(e) => void submit(e)} aria-label={t("newAppCommand")}>
          <label>
            {t("subscriptionBot")}
            <select value={botId} onChange={(e) => setForm({ ...form, bot_id: Number(e.target.value) })}>
              {active.map((b) => (
                <option key={b.id} value={b.id}>
                  {b.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("commandName")}
            <input required maxLength={33} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          </label>
          <label>
            {t("commandUrl")}
            <input type="url" required value={form.url} onChange={(e) => setForm({ ...form, url: e.target.value })} />
          </label>
          <label>
            {t("commandUsage")}
            <input maxLength={120} value={form.usage} onChange={(e) => setForm({ ...form, usage: e.target.value })} />
          </label>
          <label>
            {t("commandDescription")}
            <input maxLength={200} value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
          </label>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="admin-buttons">
            <button type="submit" disabled={!form.name.trim()}>
              {t("newAppCommand")}
            </button>
          </div>
        </form>
      )}
    </article>
  );
}
