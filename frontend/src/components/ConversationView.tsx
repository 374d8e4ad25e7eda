import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { api } from "../api";
import type { MentionCandidate } from "../client";
import { insertMention, layoutRows, mentionQuery, timeLabel, validTimeZone } from "../format";
import { useClient, useHub, useT } from "../hooks";
import type { Lang } from "../i18n";
import { translate } from "../i18n";
import { timeline } from "../store";
import type { Me, Message, PendingMessage } from "../types";
import { conversationLabel } from "./Sidebar";

type Item =
  | { key: string; sender_id: number; created_at: string; message: Message; pending?: undefined }
  | { key: string; sender_id: number; created_at: string; pending: PendingMessage; message?: undefined };

function initials(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) return "?";
  // Chinese names read best by the given name's last character; Latin by the first letter.
  return /[\u4e00-\u9fff]/.test(trimmed) ? trimmed.slice(-1) : trimmed[0].toUpperCase();
}

function hue(id: number): number {
  return (id * 47) % 360;
}

const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "✅", "🙏"];

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** "Read by N of M" under the person's latest message; the names on click. */
function Receipt({ messageId, conversationId, lang }: { messageId: number; conversationId: number; lang: Lang }) {
  const client = useClient();
  const version = useHub((s) => s.readVersion[conversationId] ?? 0);
  const names = useHub((s) => s.memberNames[conversationId]);
  const [data, setData] = useState<{ read: number[]; unread: number[] } | null>(null);
  const [open, setOpen] = useState(false);
  const [off, setOff] = useState(false);
  useEffect(() => {
    let live = true;
    api
      .receipts(messageId)
      .then((r) => live && setData(r))
      .catch(() => live && setOff(true)); // receipts turned off in this workspace, or gone
    return () => {
      live = false;
    };
  }, [messageId, version]);
  if (off || !data) return null;
  const total = data.read.length + data.unread.length;
  if (!total) return null;
  const name = (id: number) => names?.[id] ?? "…";
  return (
    <div className="receipt" data-testid="receipt">
      <button
        type="button"
        aria-expanded={open}
        onClick={() => {
          setOpen(!open);
          void client.loadMemberNames(conversationId).catch(() => undefined);
        }}
      >
        {translate(lang, "readBy", { n: data.read.length, m: total })}
      </button>
      {open && (
        <div className="receipt-list">
          <strong>{translate(lang, "readList")}</strong>
          <ul data-testid="read-list">
            {data.read.map((id) => (
              <li key={id}>{name(id)}</li>
            ))}
          </ul>
          <strong>{translate(lang, "unreadList")}</strong>
          <ul data-testid="unread-list">
            {data.unread.map((id) => (
              <li key={id}>{name(id)}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

interface RowProps {
  receipt: boolean;
  item: Item;
  first: boolean;
  conversationId: number;
  lang: Lang;
  tz: string | undefined;
  me: Me;
}

// Rows take everything as props (no store subscription per row) and re-render only when their
// message object, grouping or language changes: a long timeline costs one pass, not one per
// event.
const MessageRow = memo(function MessageRow({ item, first, conversationId, lang, tz, me, receipt }: RowProps) {
  const client = useClient();
  const t = (key: Parameters<typeof translate>[1]) => translate(lang, key);
  const senderName = item.message ? item.message.sender_name || `#${item.sender_id}` : me.display_name || me.email;
  const time = timeLabel(item.created_at, lang, tz);
  const state = item.pending?.state;
  const message = item.message;
  const [menu, setMenu] = useState(false);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const [error, setError] = useState("");
  const mine = message?.sender_id === me.id;
  const run = async (action: () => Promise<void>) => {
    setError("");
    try {
      await action();
      return true;
    } catch (err) {
      setError(translate(lang, "actionFailed", { message: errorText(err) }));
      return false;
    }
  };
  const saveEdit = async () => {
    if (!message || !draft.trim()) return;
    if (await run(() => client.editMessage(message.id, draft))) setEditing(false);
  };
  return (
    <li
      className={`msg${first ? " first" : ""}${state ? ` pending ${state}` : ""}`}
      data-seq={item.message?.seq}
      data-client-id={item.pending?.client_id ?? item.message?.client_id}
      data-testid={item.pending ? "pending-message" : "message"}
    >
      {first ? (
        <span className="avatar" aria-hidden="true" style={{ background: `hsl(${hue(item.sender_id)} 55% 45%)` }}>
          {initials(senderName)}
        </span>
      ) : (
        <time className="gutter-time" dateTime={item.created_at}>
          {time}
        </time>
      )}
      <div className="msg-main">
        {first && (
          <div className="msg-head">
            <span className="sender">{senderName}</span>
            <time dateTime={item.created_at}>{time}</time>
          </div>
        )}
        {message && editing ? (
          <form
            className="edit"
            onSubmit={(e) => {
              e.preventDefault();
              void saveEdit();
            }}
          >
            <textarea
              aria-label={t("edit")}
              value={draft}
              autoFocus
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Escape") setEditing(false);
                if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
                  e.preventDefault();
                  void saveEdit();
                }
              }}
            />
            <button type="submit">{t("save")}</button>
            <button type="button" onClick={() => setEditing(false)}>
              {t("cancel")}
            </button>
          </form>
        ) : item.message ? (
          item.message.deleted ? (
            <div className="body deleted">{t("deleted")}</div>
          ) : item.message.html ? (
            // Rendered from Markdown and sanitised (allow-list) on the server.
            <div className="body" dangerouslySetInnerHTML={{ __html: item.message.html }} />
          ) : (
            <div className="body">{item.message.body}</div>
          )
        ) : (
          <div className="body">{item.pending.body}</div>
        )}
        {item.message?.edited_at && !item.message.deleted && <span className="edited">{t("edited")}</span>}
        {item.message?.reactions && item.message.reactions.length > 0 && (
          <div className="reactions">
            {item.message.reactions.map((r) => (
              <button
                type="button"
                key={r.emoji}
                className={`reaction${r.user_ids.includes(me.id) ? " mine" : ""}`}
                aria-pressed={r.user_ids.includes(me.id)}
                aria-label={`${translate(lang, "reactWith", { emoji: r.emoji })} (${r.count})`}
                onClick={() => void run(() => client.react(message!.id, r.emoji))}
              >
                {r.emoji} {r.count}
              </button>
            ))}
          </div>
        )}
        {item.pending && (
          <div className="pending-state" role={state === "failed" ? "alert" : undefined}>
            {state === "sending" ? (
              t("sending")
            ) : (
              <>
                {t("failed")}{" "}
                <button type="button" onClick={() => client.retry(conversationId, item.pending!.client_id)}>
                  {t("retry")}
                </button>{" "}
                <button type="button" onClick={() => client.discard(conversationId, item.pending!.client_id)}>
                  {t("discard")}
                </button>
              </>
            )}
          </div>
        )}
        {receipt && message && <Receipt messageId={message.id} conversationId={conversationId} lang={lang} />}
        {error && (
          <p className="form-error inline" role="alert">
            {error}
          </p>
        )}
      </div>
      {message && !message.deleted && !editing && (
        <div className={`msg-actions${menu ? " open" : ""}`}>
          <button
            type="button"
            className="more"
            aria-label={t("messageActions")}
            aria-expanded={menu}
            onClick={() => setMenu(!menu)}
          >
            ⋯
          </button>
          {menu && (
            <div className="menu" role="menu">
              {QUICK_REACTIONS.map((emoji) => (
                <button
                  type="button"
                  role="menuitem"
                  key={emoji}
                  aria-label={translate(lang, "reactWith", { emoji })}
                  onClick={() => {
                    setMenu(false);
                    void run(() => client.react(message.id, emoji));
                  }}
                >
                  {emoji}
                </button>
              ))}
              {mine && (
                <button
                  type="button"
                  role="menuitem"
                  onClick={() => {
                    setMenu(false);
                    setDraft(message.body);
                    setEditing(true);
                  }}
                >
                  {t("edit")}
                </button>
              )}
              {mine && (
                <button
                  type="button"
                  role="menuitem"
                  className="danger"
                  onClick={() => {
                    setMenu(false);
                    if (window.confirm(t("confirmDelete"))) void run(() => client.deleteMessage(message.id));
                  }}
                >
                  {t("delete")}
                </button>
              )}
            </div>
          )}
        </div>
      )}
    </li>
  );
}, sameRow);

function sameRow(a: RowProps, b: RowProps): boolean {
  return (
    a.item.message === b.item.message &&
    a.item.pending === b.item.pending &&
    a.first === b.first &&
    a.receipt === b.receipt &&
    a.lang === b.lang &&
    a.tz === b.tz &&
    a.me === b.me &&
    a.conversationId === b.conversationId
  );
}

function MessageList({ id }: { id: number }) {
  const client = useClient();
  const t = useT();
  const lang = useHub((s) => s.lang);
  const me = useHub((s) => s.me);
  const conv = useHub((s) => s.convs[id]);
  const loadingOlder = useHub((s) => Boolean(s.loadingOlder[id]));
  const historyError = useHub((s) => Boolean(s.historyError[id]));
  const scroller = useRef<HTMLDivElement>(null);
  const anchor = useRef<{ firstKey: string | null; height: number; top: number; atBottom: boolean }>({
    firstKey: null,
    height: 0,
    top: 0,
    atBottom: true,
  });

  const items = useMemo<Item[]>(() => {
    const stored: Item[] = timeline(conv).map((m) => ({
      key: `m${m.id}`,
      sender_id: m.sender_id,
      created_at: m.created_at,
      message: m,
    }));
    const pending: Item[] = conv.pending.map((p) => ({
      key: `p${p.client_id}`,
      sender_id: me.id,
      created_at: p.created_at,
      pending: p,
    }));
    return [...stored, ...pending];
  }, [conv, me.id]);
  const tz = validTimeZone(me.time_zone);
  const rows = useMemo(() => layoutRows(items, lang, tz), [items, lang, tz]);
  const receiptFor = useMemo(() => {
    for (let i = items.length - 1; i >= 0; i--) {
      const m = items[i].message;
      if (m && m.sender_id === me.id && !m.deleted) return m.id;
    }
    return null;
  }, [items, me.id]);

  // Keep the view anchored: at the bottom when it was at the bottom (new messages), and on the
  // same message when older history is prepended above.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const previous = anchor.current;
    const firstKey = items[0]?.key ?? null;
    if (previous.atBottom) {
      el.scrollTop = el.scrollHeight;
    } else if (previous.firstKey !== null && firstKey !== previous.firstKey) {
      el.scrollTop = previous.top + (el.scrollHeight - previous.height);
    }
    anchor.current = { firstKey, height: el.scrollHeight, top: el.scrollTop, atBottom: previous.atBottom };
    // A short page does not scroll, so fetch more until it does (or history ends).
    if (conv.historyLoaded && conv.hasMoreBefore && el.scrollHeight <= el.clientHeight + 10) void client.loadOlder(id);
  }, [items, conv.historyLoaded, conv.hasMoreBefore, client, id]);

  // Jump from search: once the message is loaded, centre it and flash it.
  const highlight = useHub((s) => (s.highlight?.conversationId === id ? s.highlight.seq : null));
  useEffect(() => {
    if (highlight === null) return;
    const el = scroller.current?.querySelector<HTMLElement>(`[data-seq="${highlight}"]`);
    if (!el) return;
    anchor.current = { ...anchor.current, atBottom: false };
    client.atBottom = false;
    el.scrollIntoView({ block: "center" });
    el.classList.add("highlight");
    const timer = setTimeout(() => {
      el.classList.remove("highlight");
      client.clearHighlight();
    }, 2500);
    return () => clearTimeout(timer);
  }, [highlight, items, client]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    anchor.current = { ...anchor.current, height: el.scrollHeight, top: el.scrollTop, atBottom };
    client.atBottom = atBottom;
    if (atBottom) client.scheduleMarkRead();
    if (el.scrollTop < 300) void client.loadOlder(id);
  };

  return (
    <div className="scroller" ref={scroller} onScroll={onScroll} data-testid="timeline" tabIndex={0}>
      {!conv.historyLoaded && !historyError && <p className="hint center">{t("loading")}</p>}
      {historyError && (
        <p className="hint center">
          {t("errorLoading")}{" "}
          <button type="button" onClick={() => void client.loadLatest(id)}>
            {t("tryAgain")}
          </button>
        </p>
      )}
      {conv.historyLoaded && !conv.hasMoreBefore && <p className="hint center">{t("startOfConversation")}</p>}
      {loadingOlder && <p className="hint center">{t("loadingOlder")}</p>}
      <ol className="messages" aria-live="polite">
        {rows.map((row) =>
          row.kind === "day" ? (
            <li key={row.key} className="day" role="separator">
              <span>{row.label}</span>
            </li>
          ) : (
            <MessageRow
              key={row.key}
              item={row.item}
              first={row.first}
              conversationId={id}
              lang={lang}
              tz={tz}
              me={me}
              receipt={row.item.message !== undefined && row.item.message.id === receiptFor}
            />
          ),
        )}
      </ol>
    </div>
  );
}

const NO_ONE: Record<number, { name: string; until: number }> = {};

function TypingLine({ id }: { id: number }) {
  const t = useT();
  const people = useHub((s) => s.typing[id] ?? NO_ONE);
  const names = Object.values(people).map((p) => p.name);
  let text = "";
  if (names.length === 1) text = t("typingOne", { name: names[0] });
  else if (names.length === 2) text = t("typingTwo", { a: names[0], b: names[1] });
  else if (names.length > 2) text = t("typingMany");
  return (
    <div className="typing" aria-live="polite" data-testid="typing">
      {text}
    </div>
  );
}

function Composer({ id, name }: { id: number; name: string }) {
  const client = useClient();
  const t = useT();
  const [text, setText] = useState("");
  const composing = useRef(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const [mention, setMention] = useState<{ start: number; query: string } | null>(null);
  const [candidates, setCandidates] = useState<MentionCandidate[]>([]);
  const [selected, setSelected] = useState(0);
  const needle = mention?.query.toLowerCase() ?? "";
  const options = mention
    ? candidates
        .filter((c) => !needle || c.name.toLowerCase().includes(needle) || c.handle.toLowerCase().includes(needle))
        .slice(0, 8)
    : [];
  const open = options.length > 0;

  const track = (value: string, caret: number) => {
    const found = mentionQuery(value, caret);
    setMention(found);
    setSelected(0);
    if (found && !candidates.length) {
      client
        .mentionCandidates(id)
        .then(setCandidates)
        .catch(() => undefined);
    }
  };
  const choose = (candidate: MentionCandidate) => {
    const el = box.current;
    if (!mention || !el) return;
    const next = insertMention(text, mention.start, el.selectionStart ?? text.length, candidate.handle);
    caretAfterRender.current = next.caret;
    setText(next.text);
    setMention(null);
  };
  // Place the caret in the same commit as the new text: a later callback (rAF) would race a
  // fast typist and move the caret back into what they have typed since.
  const caretAfterRender = useRef<number | null>(null);
  useLayoutEffect(() => {
    const el = box.current;
    if (el && caretAfterRender.current !== null) {
      el.focus();
      el.setSelectionRange(caretAfterRender.current, caretAfterRender.current);
      caretAfterRender.current = null;
    }
  }, [text]);
  const submit = () => {
    if (!text.trim()) return;
    client.send(id, text);
    client.atBottom = true;
    setText("");
    setMention(null);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // While a Chinese IME composition is open, keys belong to the IME (isComposing, and
    // keyCode 229 for older Safari): Enter confirms the candidate, it must not send.
    if (composing.current || e.nativeEvent.isComposing || e.keyCode === 229) return;
    if (open) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const step = e.key === "ArrowDown" ? 1 : options.length - 1;
        setSelected((selected + step) % options.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        choose(options[Math.min(selected, options.length - 1)]);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setMention(null);
        return;
      }
    }
    // Enter sends; Shift+Enter is a new line.
    if (e.key !== "Enter" || e.shiftKey) return;
    e.preventDefault();
    submit();
  };
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {open && (
        <ul className="mentions" role="listbox" aria-label="@" id={`mentions-${id}`}>
          {options.map((c, i) => (
            <li
              key={c.user_id}
              role="option"
              aria-selected={i === selected}
              className={i === selected ? "selected" : undefined}
              onMouseDown={(e) => {
                e.preventDefault(); // keep the focus in the composer
                choose(c);
              }}
            >
              <span className="name">{c.name}</span> <span className="handle">@{c.handle}</span>
            </li>
          ))}
        </ul>
      )}
      <textarea
        ref={box}
        aria-label={t("composerLabel")}
        aria-autocomplete="list"
        aria-controls={open ? `mentions-${id}` : undefined}
        aria-expanded={open}
        placeholder={t("composerPlaceholder", { name })}
        value={text}
        rows={1}
        onChange={(e) => {
          setText(e.target.value);
          track(e.target.value, e.target.selectionStart ?? e.target.value.length);
          if (e.target.value.trim()) client.notifyTyping(id);
        }}
        onKeyDown={onKeyDown}
        onCompositionStart={() => (composing.current = true)}
        onCompositionEnd={() => (composing.current = false)}
        onBlur={() => setMention(null)}
      />
      <button type="submit" disabled={!text.trim()}>
        {t("send")}
      </button>
    </form>
  );
}

export function ConversationView({ id }: { id: number }) {
  const client = useClient();
  const t = useT();
  const workspaceId = useHub((s) => s.workspaceId);
  const summary = useHub((s) => s.conversations.find((c) => c.id === id));
  const conv = useHub((s) => s.convs[id]);
  const people = useHub((s) => s.people[id]);
  if (!summary || !conv) return null;
  const name = conversationLabel(summary, people, summary.kind === "dm" ? t("directMessage") : t("group"));
  const title = summary.kind === "public" ? `# ${name}` : name;
  return (
    <section className="conversation" aria-label={title}>
      <header className="conv-head">
        <button
          type="button"
          className="back"
          onClick={() => client.navigate({ workspaceId, conversationId: null })}
          aria-label={t("back")}
        >
          ‹
        </button>
        <h1>{title}</h1>
        {summary.topic && <span className="topic">{summary.topic}</span>}
      </header>
      <MessageList id={id} />
      <TypingLine id={id} />
      <Composer id={id} name={title} />
    </section>
  );
}
