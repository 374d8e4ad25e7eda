// Side panels next to the conversation: pinned messages, saved messages, and the member list
// (presence dots, guest badges). Each fetches when opened; pins refetch on pin.changed.

import { useEffect, useState, type ReactNode } from "react";
import { api } from "../api";
import { dayKey, timeLabel, validTimeZone } from "../format";
import { useClient, useHub, useT } from "../hooks";
import type { Message } from "../types";
import { hue, initials } from "./MessageRow";

function PanelFrame({
  title,
  testId,
  children,
}: {
  title: string;
  testId: string;
  children: ReactNode;
}) {
  const client = useClient();
  const t = useT();
  return (
    <aside
      className="side-panel"
      aria-label={title}
      data-testid={testId}
      onKeyDown={(e) => {
        if (e.key === "Escape" && !e.defaultPrevented) client.openPanel(null);
      }}
    >
      <header className="panel-head">
        <button type="button" className="back" onClick={() => client.openPanel(null)} aria-label={t("back")}>
          ‹
        </button>
        <h2>{title}</h2>
        <span className="spacer" />
        <button type="button" className="close" onClick={() => client.openPanel(null)} aria-label={t("closePanel")}>
          ×
        </button>
      </header>
      <div className="panel-body">{children}</div>
    </aside>
  );
}

/** A message in a list (pins, saved): who, when, the text; choosing it jumps to it. */
function MessageCard({ message, where }: { message: Message; where?: string }) {
  const client = useClient();
  const lang = useHub((s) => s.lang);
  const me = useHub((s) => s.me);
  const tz = validTimeZone(me.time_zone);
  return (
    <button
      type="button"
      className="result"
      data-testid="panel-message"
      onClick={() => {
        void client.jumpTo(message.conversation_id, message.seq);
        if (message.thread_root_id) client.openThread(message.conversation_id, message.thread_root_id);
      }}
    >
      <span className="where">
        {where ? `${where} · ` : ""}
        {message.sender_name} · {dayKey(message.created_at, tz)} {timeLabel(message.created_at, lang, tz)}
      </span>
      <span className="snippet">{message.body || (message.attachments ?? []).map((a) => a.name).join(", ")}</span>
    </button>
  );
}

export function PinsPanel({ conversationId }: { conversationId: number }) {
  const t = useT();
  const version = useHub((s) => s.pinVersion[conversationId] ?? 0);
  const [pins, setPins] = useState<Message[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    api.pins(conversationId).then(
      (r) => live && setPins(r.pins.map((p) => p.message)),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [conversationId, version]);
  return (
    <PanelFrame title={t("pinnedMessages")} testId="pins-panel">
      {failed && <p className="hint center">{t("errorLoading")}</p>}
      {pins === null && !failed && <p className="hint center">{t("loading")}</p>}
      {pins?.length === 0 && <p className="hint center">{t("noPins")}</p>}
      <ol className="results">
        {pins?.map((m) => (
          <li key={m.id}>
            <MessageCard message={m} />
          </li>
        ))}
      </ol>
    </PanelFrame>
  );
}

export function SavedPanel() {
  const client = useClient();
  const t = useT();
  const conversations = useHub((s) => s.conversations);
  const savedIds = useHub((s) => s.savedIds);
  const [saved, setSaved] = useState<Message[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    client.loadSaved().then(
      (list) => setSaved(list.map((s) => s.message)),
      () => setFailed(true),
    );
  }, [client]);
  const shown = saved?.filter((m) => savedIds?.[m.id] !== false);
  const nameOf = (id: number) => conversations.find((c) => c.id === id)?.name || t("directMessage");
  return (
    <PanelFrame title={t("savedMessages")} testId="saved-panel">
      {failed && <p className="hint center">{t("errorLoading")}</p>}
      {saved === null && !failed && <p className="hint center">{t("loading")}</p>}
      {shown?.length === 0 && <p className="hint center">{t("noSaved")}</p>}
      <ol className="results">
        {shown?.map((m) => (
          <li key={m.id}>
            <MessageCard message={m} where={nameOf(m.conversation_id)} />
          </li>
        ))}
      </ol>
    </PanelFrame>
  );
}

export function MembersPanel({ conversationId }: { conversationId: number }) {
  const t = useT();
  const members = useHub((s) => s.members[conversationId]);
  const presence = useHub((s) => s.presence);
  const me = useHub((s) => s.me);
  const client = useClient();
  useEffect(() => {
    void client.loadMembers(conversationId).catch(() => undefined);
  }, [client, conversationId]);
  const sorted = members ? [...members].sort((a, b) => Number(a.is_external ?? false) - Number(b.is_external ?? false)) : [];
  return (
    <PanelFrame title={t("membersCount", { n: members?.length ?? 0 })} testId="members-panel">
      {!members && <p className="hint center">{t("loading")}</p>}
      <ul className="member-list">
        {sorted.map((m) => {
          // Guests never receive presence (docs/protocol.md): no dot for them, and none shown
          // to a guest looking at the list.
          const status = m.is_external ? null : m.user_id === me.id ? "online" : (presence[m.user_id] ?? "offline");
          return (
            <li key={m.user_id} data-testid="member">
              <span className="avatar small" aria-hidden="true" style={{ background: `hsl(${hue(m.user_id)} 55% 45%)` }}>
                {initials(m.name)}
              </span>
              {status && (
                <span
                  className={`presence-dot ${status}`}
                  role="img"
                  aria-label={t(status === "offline" ? "offlineStatus" : status)}
                  title={t(status === "offline" ? "offlineStatus" : status)}
                />
              )}
              <span className="member-name">{m.name}</span>
              {m.is_external && (
                <span className="tag guest" data-testid="guest-badge" title={m.partner_name ?? ""}>
                  {t("external")}
                  {m.partner_name ? ` · ${m.partner_name}` : ""}
                </span>
              )}
              {m.role === "manager" && <span className="muted-text">{t("manager")}</span>}
            </li>
          );
        })}
      </ul>
    </PanelFrame>
  );
}
