import { useEffect, useState, type FormEvent, type MouseEvent, type ReactNode } from "react";
import { api, ApiError } from "../api";
import { routePath } from "../client";
import { useClient, useHub, useT } from "../hooks";
import { WorkspaceNav } from "../records/RecordsLink";
import type { ConversationSummary } from "../types";

/** Drawn, not an emoji: many Linux and older Android fonts have no 🔒. */
function LockIcon() {
  return (
    <svg width="12" height="12" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M4 7V5a4 4 0 1 1 8 0v2h.5A1.5 1.5 0 0 1 14 8.5v6A1.5 1.5 0 0 1 12.5 16h-9A1.5 1.5 0 0 1 2 14.5v-6A1.5 1.5 0 0 1 3.5 7H4zm2 0h4V5a2 2 0 1 0-4 0v2z"
      />
    </svg>
  );
}

export function conversationLabel(c: ConversationSummary, people: string[] | undefined, fallback: string): string {
  if (c.name) return c.name;
  return people && people.length ? people.join("、") : fallback;
}

function Item({ c }: { c: ConversationSummary }) {
  const client = useClient();
  const t = useT();
  const workspaceId = useHub((s) => s.workspaceId);
  const active = useHub((s) => s.activeId === c.id);
  const href = routePath({ workspaceId, conversationId: c.id });
  const unread = c.unread_count > 0;
  const onClick = (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    client.navigate({ workspaceId, conversationId: c.id });
  };
  const prefix = c.kind === "public" ? "#" : c.kind === "private" ? <LockIcon /> : c.kind === "dm" ? "●" : "◆";
  const people = useHub((s) => s.people[c.id]);
  const status = useHub((s) => {
    const ids = s.peopleIds[c.id];
    return c.kind === "dm" && ids && ids.length === 1 ? (s.presence[ids[0]] ?? "offline") : null;
  });
  const label = conversationLabel(c, people, c.kind === "dm" ? t("directMessage") : t("group"));
  // A DM or group with a partner company's guest is marked like a shared channel.
  const withGuest = useHub(
    (s) => (c.kind === "dm" || c.kind === "group") && Boolean(s.members[c.id]?.some((m) => m.is_external && m.user_id !== s.me.id)),
  );
  return (
    <li>
      <a
        href={href}
        onClick={onClick}
        className={`conv${active ? " active" : ""}${unread && !c.muted ? " unread" : ""}${c.muted ? " muted" : ""}`}
        aria-current={active ? "page" : undefined}
        data-conversation-id={c.id}
      >
        {status ? (
          <span
            className={`prefix presence ${status}`}
            role="img"
            aria-label={t(status === "offline" ? "offlineStatus" : status)}
            data-testid="presence"
            data-status={status}
          >
            ●
          </span>
        ) : (
          <span className="prefix" aria-hidden="true">
            {prefix}
          </span>
        )}
        <span className="name">{label}</span>
        {((c.shared_with && c.shared_with.length > 0) || withGuest) && <span className="tag">{t("external")}</span>}
        {(c.mention_count ?? 0) > 0 && (
          <span className="badge mention" aria-label={t("mentions", { n: c.mention_count ?? 0 })}>
            @{c.mention_count}
          </span>
        )}
        {unread && (
          <span className="badge" data-testid="unread-badge" aria-label={t("unread", { n: c.unread_count })}>
            {c.unread_count > 99 ? "99+" : c.unread_count}
          </span>
        )}
      </a>
    </li>
  );
}

function NewChannel({ onDone }: { onDone: () => void }) {
  const client = useClient();
  const t = useT();
  const [name, setName] = useState("");
  const [isPrivate, setPrivate] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim() || busy) return;
    setBusy(true);
    setError("");
    try {
      await client.createChannel(name, isPrivate);
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t("errorLoading"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="new-channel" onSubmit={submit} aria-label={t("newChannel")}>
      <input
        aria-label={t("channelName")}
        placeholder={t("channelName")}
        value={name}
        maxLength={80}
        autoFocus
        onChange={(e) => setName(e.target.value)}
      />
      <label className="check">
        <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} />
        {t("privateChannel")}
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="row">
        <button type="submit" disabled={!name.trim() || busy}>
          {t("create")}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          {t("cancel")}
        </button>
      </div>
    </form>
  );
}

function NewConversation({ onDone }: { onDone: () => void }) {
  const client = useClient();
  const t = useT();
  const me = useHub((s) => s.me);
  const workspaceId = useHub((s) => s.workspaceId);
  const [people, setPeople] = useState<{ user_id: number; display_name: string; email: string }[] | null>(null);
  const [filter, setFilter] = useState("");
  const [picked, setPicked] = useState<number[]>([]);
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (workspaceId === null) return;
    api
      .workspaceMembers(workspaceId)
      .then((rows) => setPeople(rows.filter((r) => r.is_active && r.user_id !== me.id)))
      .catch((err) => setError(err instanceof ApiError ? err.message : t("errorLoading")));
  }, [workspaceId, me.id, t]);
  const needle = filter.trim().toLowerCase();
  const shown = (people ?? []).filter(
    (p) => !needle || p.display_name.toLowerCase().includes(needle) || p.email.toLowerCase().includes(needle),
  );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!picked.length || busy) return;
    setBusy(true);
    setError("");
    try {
      await client.startConversation(picked, name);
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t("errorLoading"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="new-channel new-conversation" onSubmit={submit} aria-label={t("newConversation")}>
      <p className="hint">{t("pickPeople")}</p>
      <input aria-label={t("findPeople")} placeholder={t("findPeople")} value={filter} onChange={(e) => setFilter(e.target.value)} />
      {people === null && !error && <p className="hint">{t("loading")}</p>}
      <ul className="people">
        {shown.map((p) => (
          <li key={p.user_id}>
            <label className="check">
              <input
                type="checkbox"
                checked={picked.includes(p.user_id)}
                onChange={(e) =>
                  setPicked(e.target.checked ? [...picked, p.user_id] : picked.filter((id) => id !== p.user_id))
                }
              />
              {p.display_name || p.email}
            </label>
          </li>
        ))}
      </ul>
      {picked.length > 1 && (
        <input aria-label={t("groupName")} placeholder={t("groupName")} value={name} maxLength={80} onChange={(e) => setName(e.target.value)} />
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="row">
        <button type="submit" disabled={!picked.length || busy}>
          {t("start")}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          {t("cancel")}
        </button>
      </div>
    </form>
  );
}

function OtherChannels({ items }: { items: ConversationSummary[] }) {
  const client = useClient();
  const t = useT();
  const [busy, setBusy] = useState<number | null>(null);
  if (!items.length) return null;
  return (
    <details className="other-channels">
      <summary>{t("otherChannels", { n: items.length })}</summary>
      <ul>
        {items.map((c) => (
          <li key={c.id} className="conv other" data-conversation-id={c.id}>
            <span className="prefix" aria-hidden="true">
              #
            </span>
            <span className="name">{c.name}</span>
            <button
              type="button"
              disabled={busy !== null}
              onClick={async () => {
                setBusy(c.id);
                try {
                  await client.joinChannel(c.id);
                } finally {
                  setBusy(null);
                }
              }}
            >
              {t("join")}
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** The "+" beside a section title that opens its creation form. */
function AddButton({ label, open, onToggle }: { label: string; open: boolean; onToggle: () => void }) {
  return (
    <button type="button" className="add" aria-label={label} title={label} aria-expanded={open} onClick={onToggle}>
      +
    </button>
  );
}

function Section({
  title,
  items,
  action,
}: {
  title: string;
  items: ConversationSummary[];
  action?: ReactNode;
}) {
  if (!items.length && !action) return null;
  return (
    <section>
      <h2>
        <span>{title}</span>
        {action}
      </h2>
      <ul>
        {items.map((c) => (
          <Item key={c.id} c={c} />
        ))}
      </ul>
    </section>
  );
}

export function Sidebar() {
  const t = useT();
  const client = useClient();
  const conversations = useHub((s) => s.conversations);
  const status = useHub((s) => s.listStatus);
  const me = useHub((s) => s.me);
  const workspaceId = useHub((s) => s.workspaceId);
  const [creating, setCreating] = useState(false);
  const [starting, setStarting] = useState(false);
  const isGuest = me.workspaces.find((w) => w.id === workspaceId)?.role === "guest";
  // Only what the person takes part in (browsing public channels comes with the directory).
  const mine = conversations.filter((c) => c.joined !== false && !c.archived);
  const channels = mine.filter((c) => c.kind === "public" || c.kind === "private");
  const groups = mine.filter((c) => c.kind === "group");
  const dms = mine.filter((c) => c.kind === "dm");
  return (
    <nav className="sidebar" aria-label={t("conversations")}>
      {status === "loading" && <p className="hint">{t("loading")}</p>}
      {status === "error" && (
        <p className="hint">
          {t("errorLoading")}{" "}
          <button type="button" onClick={() => void client.loadConversations()}>
            {t("tryAgain")}
          </button>
        </p>
      )}
      {status === "ready" && mine.length === 0 && <p className="hint">{t("noConversations")}</p>}
      <WorkspaceNav />
      <Section
        title={t("channels")}
        items={channels}
        action={
          !isGuest && <AddButton label={t("newChannel")} open={creating} onToggle={() => setCreating(!creating)} />
        }
      />
      {creating && <NewChannel onDone={() => setCreating(false)} />}
      <OtherChannels items={conversations.filter((c) => c.joined === false && !c.archived && c.kind === "public")} />
      <Section title={t("groups")} items={groups} />
      <Section
        title={t("directMessages")}
        items={dms}
        action={
          !isGuest && (
            <AddButton label={t("newConversation")} open={starting} onToggle={() => setStarting(!starting)} />
          )
        }
      />
      {starting && <NewConversation onDone={() => setStarting(false)} />}
    </nav>
  );
}
