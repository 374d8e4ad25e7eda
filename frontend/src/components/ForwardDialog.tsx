// Forward (quote) a message into another conversation: a modal picker of the conversations
// the person takes part in, filterable by name, with an optional comment.

import { useEffect, useRef, useState } from "react";
import { useClient, useHub, useT } from "../hooks";
import { conversationLabel } from "./Sidebar";

export function ForwardDialog() {
  const client = useClient();
  const t = useT();
  const message = useHub((s) => s.forwarding);
  const conversations = useHub((s) => s.conversations);
  const people = useHub((s) => s.people);
  const [filter, setFilter] = useState("");
  const [target, setTarget] = useState<number | null>(null);
  const [comment, setComment] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<number | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (message && !el.open) {
      setFilter("");
      setTarget(null);
      setComment("");
      setError("");
      setDone(null);
      // showModal traps the focus and gives Escape for free; jsdom-less old browsers fall back.
      if (typeof el.showModal === "function") el.showModal();
      else el.setAttribute("open", "");
    }
    if (!message && el.open) el.close();
  }, [message]);

  const label = (id: number) => {
    const c = conversations.find((x) => x.id === id);
    if (!c) return "";
    const name = conversationLabel(c, people[c.id], c.kind === "dm" ? t("directMessage") : t("group"));
    return c.kind === "public" || c.kind === "private" ? `# ${name}` : name;
  };
  const needle = filter.trim().toLowerCase();
  const choices = conversations.filter(
    (c) => c.joined !== false && !c.archived && (!needle || label(c.id).toLowerCase().includes(needle)),
  );
  const submit = async () => {
    if (!message || target === null) return;
    setBusy(true);
    setError("");
    try {
      await client.forward(message.id, target, comment);
      setDone(target);
    } catch (err) {
      setError(t("actionFailed", { message: err instanceof Error ? err.message : String(err) }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog
      ref={dialog}
      className="forward-dialog"
      aria-labelledby="forward-title"
      data-testid="forward-dialog"
      onClose={() => client.startForward(null)}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h2 id="forward-title">{t("forwardTitle")}</h2>
        {message && <blockquote className="quote">{message.body || (message.attachments ?? []).map((a) => a.name).join(", ")}</blockquote>}
        {done !== null ? (
          <>
            <p role="status">{t("forwardedTo", { name: label(done) })}</p>
            <div className="row">
              <button
                type="button"
                onClick={() => {
                  client.startForward(null);
                  client.navigate({ workspaceId: client.state.workspaceId, conversationId: done });
                }}
              >
                {t("openConversation")}
              </button>
              <button type="button" className="secondary" onClick={() => client.startForward(null)}>
                {t("close")}
              </button>
            </div>
          </>
        ) : (
          <>
            <input
              type="search"
              aria-label={t("findConversation")}
              placeholder={t("findConversation")}
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
              autoFocus
            />
            <ul className="pick-list" role="radiogroup" aria-label={t("forwardTo")}>
              {choices.map((c) => (
                <li key={c.id}>
                  <label className={target === c.id ? "selected" : undefined}>
                    <input type="radio" name="forward-target" checked={target === c.id} onChange={() => setTarget(c.id)} />
                    <span>{label(c.id)}</span>
                    {c.shared_with && c.shared_with.length > 0 && <span className="tag guest">{t("external")}</span>}
                  </label>
                </li>
              ))}
            </ul>
            <textarea
              aria-label={t("forwardComment")}
              placeholder={t("forwardComment")}
              value={comment}
              rows={2}
              onChange={(e) => setComment(e.target.value)}
            />
            {error && (
              <p className="form-error inline" role="alert">
                {error}
              </p>
            )}
            <div className="row">
              <button type="submit" disabled={target === null || busy}>
                {t("forward")}
              </button>
              <button type="button" className="secondary" onClick={() => client.startForward(null)}>
                {t("cancel")}
              </button>
            </div>
          </>
        )}
      </form>
    </dialog>
  );
}
