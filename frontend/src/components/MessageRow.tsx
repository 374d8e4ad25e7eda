// One message of a timeline (the conversation's or a thread's): header, body, files, thread
// summary, reactions, local-echo state, receipt, and the "⋯" menu of actions.

import { memo, useEffect, useState } from "react";
import { api } from "../api";
import { timeLabel } from "../format";
import { useClient, useHub } from "../hooks";
import type { Lang } from "../i18n";
import { translate } from "../i18n";
import type { Attachment, Me, Message, PendingMessage } from "../types";
import { DocumentBlocks } from "../docs/DocCard";
import { MessageBlocks } from "../crm/MessageBlocks";
import { formatSize, isImageName } from "./uploads";

export type Item =
  | { key: string; sender_id: number; created_at: string; message: Message; pending?: undefined }
  | { key: string; sender_id: number; created_at: string; pending: PendingMessage; message?: undefined };

export function initials(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) return "?";
  // Chinese names read best by the given name's last character; Latin by the first letter.
  return /[\u4e00-\u9fff]/.test(trimmed) ? trimmed.slice(-1) : trimmed[0].toUpperCase();
}

export function hue(id: number): number {
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

/** Images as thumbnails (click opens the full file), other files as chips with name and size. */
export function AttachmentList({ files, lang }: { files: Attachment[]; lang: Lang }) {
  return (
    <div className="files">
      {files.map((file) =>
        file.thumbnail_url || (isImageName(file.name) && file.content_type.startsWith("image/")) ? (
          <a
            key={file.id}
            className="file-image"
            href={file.url}
            target="_blank"
            rel="noopener"
            title={`${translate(lang, "openImage")}: ${file.name}`}
            data-testid="attachment-image"
          >
            <img
              src={file.thumbnail_url ?? file.url}
              alt={file.name}
              loading="lazy"
              style={file.width && file.height ? { aspectRatio: `${file.width} / ${file.height}` } : undefined}
            />
          </a>
        ) : (
          <a
            key={file.id}
            className="file-chip"
            href={file.url}
            download={file.name}
            data-testid="attachment-file"
            title={translate(lang, "download")}
          >
            <span className="file-icon" aria-hidden="true">
              📄
            </span>
            <span className="file-name">{file.name}</span>
            <span className="file-size">{formatSize(file.size)}</span>
          </a>
        ),
      )}
    </div>
  );
}

export interface RowProps {
  receipt: boolean;
  item: Item;
  first: boolean;
  conversationId: number;
  lang: Lang;
  tz: string | undefined;
  me: Me;
  /** The sender is a partner company's guest. */
  external: boolean;
  highlighted: boolean;
  saved: boolean;
  /** In the thread panel: no "reply in thread" and no thread summary. */
  inThread?: boolean;
  index?: number;
  measure?: (el: HTMLElement | null) => void;
}

// Rows take everything as props (no store subscription per row) and re-render only when their
// message object, grouping or language changes: a long timeline costs one pass, not one per
// event.
export const MessageRow = memo(function MessageRow(props: RowProps) {
  const { item, first, conversationId, lang, tz, me, receipt, external, highlighted, saved, inThread } = props;
  const client = useClient();
  const t = (key: Parameters<typeof translate>[1], vars?: Record<string, string | number>) => translate(lang, key, vars);
  const senderName = item.message ? item.message.sender_name || `#${item.sender_id}` : me.display_name || me.email;
  const time = timeLabel(item.created_at, lang, tz);
  const state = item.pending?.state;
  const message = item.message;
  const [menu, setMenu] = useState(false);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const [error, setError] = useState("");
  const [copied, setCopied] = useState(false);
  const mine = message?.sender_id === me.id;
  const files = message?.attachments ?? item.pending?.attachments ?? [];
  const run = async (action: () => Promise<unknown>) => {
    setError("");
    try {
      await action();
      return true;
    } catch (err) {
      setError(t("actionFailed", { message: errorText(err) }));
      return false;
    }
  };
  const saveEdit = async () => {
    if (!message || !draft.trim()) return;
    if (await run(() => client.editMessage(message.id, draft))) setEditing(false);
  };
  const close = () => setMenu(false);
  const replies = message?.reply_count ?? 0;
  return (
    <li
      className={`msg${first ? " first" : ""}${state ? ` pending ${state}` : ""}${highlighted ? " highlight" : ""}`}
      data-seq={item.message?.seq}
      data-index={props.index}
      ref={props.measure}
      data-client-id={item.pending?.client_id ?? item.message?.client_id}
      data-testid={item.pending ? "pending-message" : "message"}
      onKeyDown={(e) => {
        if (e.key === "Escape" && menu) {
          e.preventDefault();
          setMenu(false);
        }
      }}
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
            {external && (
              <span className="tag guest" data-testid="guest-badge" title={t("externalPerson")}>
                {t("external")}
              </span>
            )}
            <time dateTime={item.created_at}>{time}</time>
            {message?.pinned && (
              <span className="pinned-mark" title={t("pinned")}>
                📌
              </span>
            )}
          </div>
        )}
        {!first && message?.pinned && (
          <span className="pinned-mark" title={t("pinned")}>
            📌
          </span>
        )}
        {message?.forwarded_from_id && <div className="forwarded">{t("forwarded")}</div>}
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
                if (e.key === "Escape") {
                  e.preventDefault(); // closes the editor, not the panel around it
                  setEditing(false);
                }
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
          ) : item.message.body ? (
            <div className="body">{item.message.body}</div>
          ) : null
        ) : item.pending.body ? (
          <div className="body">{item.pending.body}</div>
        ) : null}
        {files.length > 0 && !message?.deleted && <AttachmentList files={files} lang={lang} />}
        {message && !message.deleted && <DocumentBlocks blocks={message.blocks} />}
        {message && !message.deleted && <MessageBlocks message={message} lang={lang} />}
        {item.message?.edited_at && !item.message.deleted && <span className="edited">{t("edited")}</span>}
        {!inThread && message && replies > 0 && (
          <button
            type="button"
            className="thread-summary"
            data-testid="thread-summary"
            onClick={() => client.openThread(conversationId, message.id)}
          >
            <strong>{replies === 1 ? t("oneReply") : t("replies", { n: replies })}</strong>
            {message.last_reply_at && (
              <span className="muted-text"> · {t("lastReply", { time: timeLabel(message.last_reply_at, lang, tz) })}</span>
            )}
          </button>
        )}
        {item.message?.reactions && item.message.reactions.length > 0 && (
          <div className="reactions">
            {item.message.reactions.map((r) => (
              <button
                type="button"
                key={r.emoji}
                className={`reaction${r.user_ids.includes(me.id) ? " mine" : ""}`}
                aria-pressed={r.user_ids.includes(me.id)}
                aria-label={`${t("reactWith", { emoji: r.emoji })} (${r.count})`}
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
                {t("failed")} {item.pending.error && item.pending.error !== "timeout" ? `${item.pending.error} ` : ""}
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
            aria-haspopup="menu"
            aria-expanded={menu}
            onClick={() => setMenu(!menu)}
          >
            ⋯
          </button>
          {menu && (
            <div className="menu" role="menu">
              <div className="quick">
                {QUICK_REACTIONS.map((emoji) => (
                  <button
                    type="button"
                    role="menuitem"
                    key={emoji}
                    aria-label={t("reactWith", { emoji })}
                    onClick={() => {
                      close();
                      void run(() => client.react(message.id, emoji));
                    }}
                  >
                    {emoji}
                  </button>
                ))}
              </div>
              {!inThread && !message.thread_root_id && (
                <button
                  type="button"
                  role="menuitem"
                  onClick={() => {
                    close();
                    client.openThread(conversationId, message.id);
                  }}
                >
                  {t("replyInThread")}
                </button>
              )}
              <button
                type="button"
                role="menuitem"
                onClick={() => {
                  close();
                  void run(() => client.setPinned(message.id, !message.pinned));
                }}
              >
                {message.pinned ? t("unpin") : t("pin")}
              </button>
              <button
                type="button"
                role="menuitem"
                onClick={() => {
                  close();
                  void run(() => client.setSaved(message.id, !saved));
                }}
              >
                {saved ? t("unsave") : t("saveForLater")}
              </button>
              <button
                type="button"
                role="menuitem"
                onClick={() => {
                  close();
                  client.startForward(message);
                }}
              >
                {t("forward")}
              </button>
              <button
                type="button"
                role="menuitem"
                onClick={() => {
                  const link = client.messageLink(conversationId, message.id);
                  void navigator.clipboard?.writeText(link).then(
                    () => setCopied(true),
                    () => window.prompt(t("copyLink"), link),
                  );
                  close();
                }}
              >
                {t("copyLink")}
              </button>
              {mine && (
                <button
                  type="button"
                  role="menuitem"
                  onClick={() => {
                    close();
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
                    close();
                    if (window.confirm(t("confirmDelete"))) void run(() => client.deleteMessage(message.id));
                  }}
                >
                  {t("delete")}
                </button>
              )}
            </div>
          )}
          {copied && (
            <span className="copied" role="status" onAnimationEnd={() => setCopied(false)}>
              {t("linkCopied")}
            </span>
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
    a.conversationId === b.conversationId &&
    a.external === b.external &&
    a.highlighted === b.highlighted &&
    a.saved === b.saved &&
    a.index === b.index &&
    a.measure === b.measure
  );
}
