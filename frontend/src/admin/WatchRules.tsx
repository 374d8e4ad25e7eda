// Watch rules: stock below the reorder point, an invoice overdue by N days, a sales order
// above an amount — each posts its alerts to a channel. List, create, edit, delete.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { useHub } from "../hooks";
import { adminApi, type Rule, type RuleKind, type RuleWrite } from "./api";
import { useAdminT, type AdminKey } from "./i18n";

const KINDS: RuleKind[] = ["stock_below_reorder", "invoice_overdue", "large_sales_order"];

export function WatchRules({ workspaceId }: { workspaceId: number }) {
  const t = useAdminT();
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [error, setError] = useState("");
  const [editing, setEditing] = useState<number | "new" | null>(null);
  const load = useCallback(() => {
    adminApi.rules(workspaceId).then(setRules, (err: unknown) => setError(err instanceof ApiError ? err.message : t("error")));
  }, [workspaceId, t]);
  useEffect(load, [load]);
  const done = () => {
    setEditing(null);
    load();
  };
  const remove = async (rule: Rule) => {
    if (!window.confirm(t("confirmDelete", { name: rule.name }))) return;
    try {
      await adminApi.deleteRule(workspaceId, rule.id);
      load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t("error"));
    }
  };
  return (
    <section className="admin-section" aria-label={t("rules")}>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {rules === null && !error && <p className="hint">{t("loading")}</p>}
      {rules?.length === 0 && <p className="hint">{t("noRules")}</p>}
      <ul className="admin-list">
        {rules?.map((rule) => (
          <li key={rule.id}>
            <article className="admin-card" data-testid="watch-rule">
              <header>
                <strong>{rule.name}</strong>
                <span className="hint">{t(`ruleKind_${rule.kind}` as AdminKey)}</span>
                {!rule.enabled && <span className="tag muted">{t("disabled")}</span>}
              </header>
              <p className="hint">{t("openAlerts", { n: rule.open_alerts.length })}</p>
              <div className="admin-buttons">
                <button type="button" className="secondary" onClick={() => setEditing(rule.id)}>
                  {t("edit")}
                </button>
                <button type="button" className="danger" onClick={() => void remove(rule)}>
                  {t("delete")}
                </button>
              </div>
              {editing === rule.id && <RuleForm workspaceId={workspaceId} rule={rule} onDone={done} />}
            </article>
          </li>
        ))}
      </ul>
      {editing === "new" ? (
        <RuleForm workspaceId={workspaceId} rule={null} onDone={done} />
      ) : (
        <div className="admin-buttons">
          <button type="button" onClick={() => setEditing("new")}>
            {t("newRule")}
          </button>
        </div>
      )}
    </section>
  );
}

function RuleForm({ workspaceId, rule, onDone }: { workspaceId: number; rule: Rule | null; onDone: () => void }) {
  const t = useAdminT();
  const channels = useHub((s) => s.conversations).filter(
    (c) => (c.kind === "public" || c.kind === "private") && c.joined !== false && !c.archived,
  );
  const [form, setForm] = useState<RuleWrite>({
    name: rule?.name ?? "",
    kind: rule?.kind ?? "stock_below_reorder",
    channel_id: rule?.channel_id ?? channels[0]?.id ?? 0,
    days: rule?.days ?? 7,
    amount: rule?.amount ?? null,
    enabled: rule?.enabled ?? true,
  });
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    // Only the threshold the kind uses is sent; the other keeps its neutral value.
    const body: RuleWrite = {
      ...form,
      name: form.name.trim(),
      days: form.kind === "invoice_overdue" ? form.days : 0,
      amount: form.kind === "large_sales_order" ? form.amount : null,
    };
    try {
      if (rule) await adminApi.updateRule(workspaceId, rule.id, body);
      else await adminApi.createRule(workspaceId, body);
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t("error"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="admin-form" onSubmit={(e) => void submit(e)} aria-label={rule ? `${t("edit")} ${rule.name}` : t("newRule")}>
      <label>
        {t("name")}
        <input value={form.name} required maxLength={80} onChange={(e) => setForm({ ...form, name: e.target.value })} />
      </label>
      <label>
        {t("kind")}
        <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value as RuleKind })}>
          {KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {t(`ruleKind_${kind}` as AdminKey)}
            </option>
          ))}
        </select>
      </label>
      {form.kind === "invoice_overdue" && (
        <label>
          {t("days")}
          <input
            type="number"
            min={0}
            max={3650}
            inputMode="numeric"
            value={form.days}
            onChange={(e) => setForm({ ...form, days: Number(e.target.value) })}
          />
        </label>
      )}
      {form.kind === "large_sales_order" && (
        <label>
          {t("amount")}
          <input
            inputMode="decimal"
            pattern="\d+(\.\d{1,2})?"
            required
            value={form.amount ?? ""}
            onChange={(e) => setForm({ ...form, amount: e.target.value || null })}
          />
        </label>
      )}
      <label>
        {t("channel")}
        <select value={form.channel_id} onChange={(e) => setForm({ ...form, channel_id: Number(e.target.value) })}>
          {channels.map((c) => (
            <option key={c.id} value={c.id}>
              #{c.name}
            </option>
          ))}
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} />
        {t("enabled")}
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="admin-buttons">
        <button type="submit" disabled={busy || !form.name.trim() || !form.channel_id}>
          {rule ? t("save") : t("create")}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          {t("cancel")}
        </button>
      </div>
    </form>
  );
}
