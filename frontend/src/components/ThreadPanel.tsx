// The thread beside the conversation (a full-screen pane with "back" on a phone): the root,
// its replies kept live from the conversation's event stream, follow/unfollow, and a composer
// whose sends are optimistic with the same client_id rules as the main one.

import { useEffect, useLayoutEffect, useMemo, useRef } from "react";
import { validTimeZone } from "../format";
import { useClient, useHub, useT } from "../hooks";
import { pendingFor } from "../store";
import { Composer } from "./Composer";
import { MessageRow, type Item } from "./MessageRow";

const NO_PEOPLE: never[] = [];

export function ThreadPanel({ conversationId, rootId }: { conversationId: number; rootId: number }) {
  const client = useClient();
  const t = useT();
  const lang = useHub((s) => s.lang);
  const me = useHub((s) => s.me);
  const thread = useHub((s) => s.threads[rootId]);
  const conv = useHub((s) => s.convs[conversationId]);
  const members = useHub((s) => s.members[conversationId] ?? NO_PEOPLE);
  const savedIds = useHub((s) => s.savedIds);
  const highlight = useHub((s) => (s.highlight?.conversationId === conversationId ? s.highlight.seq : null));
  const list = useRef<HTMLDivElement>(null);
  const tz = validTimeZone(me.time_zone);
  const external = useMemo(() => new Set(members.filter((m) => m.is_external).map((m) => m.user_id)), [members]);

  const items = useMemo<Item[]>(() => {
    if (!thread?.root) return [];
    const stored: Item[] = [thread.root, ...thread.replies].map((m) => ({
      key: `m${m.id}`,
      sender_id: m.sender_id,
      created_at: m.created_at,
      message: m,
    }));
    const pending: Item[] = conv
      ? pendingFor(conv, rootId).map((p) => ({ key: `p${p.client_id}`, sender_id: me.id, created_at: p.created_at, pending: p }))
      : [];
    return [...stored, ...pending];
  }, [thread, conv, rootId, me.id]);

  // Follow the newest reply while the reader is at the bottom of the thread.
  const atBottom = useRef(true);
  useLayoutEffect(() => {
    const el = list.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [items]);
  useEffect(() => {
    if (highlight === null) return;
    list.current?.querySelector(`[data-seq="${highlight}"]`)?.scrollIntoView({ block: "center" });
  }, [highlight, items]);

  const close = () => client.openPanel(null);
  return (
    <aside
      className="side-panel thread-panel"
      aria-label={t("thread")}
      data-testid="thread-panel"
      onKeyDown={(e) => {
        // Escape in the composer with an open @ list closes the list, not the panel.
        if (e.key === "Escape" && !e.defaultPrevented) close();
      }}
    >
      <header className="panel-head">
        <button type="button" className="back" onClick={close} aria-label={t("back")}>
          ‹
        </button>
        <h2>{t("thread")}</h2>
        <span className="spacer" />
        {thread?.root && (
          <button
            type="button"
            className="follow"
            aria-pressed={thread.following}
            data-testid="follow-thread"
            onClick={() => void client.setFollowing(rootId, !thread.following).catch(() => undefined)}
          >
            {thread.following ? t("unfollow") : t("follow")}
          </button>
        )}
        <button type="button" className="close" onClick={close} aria-label={t("closePanel")}>
          ×
        </button>
      </header>
      <div
        className="panel-body"
        ref={list}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
        }}
      >
        {(!thread || thread.status === "loading") && !thread?.root && <p className="hint center">{t("loading")}</p>}
        {thread?.status === "error" && (
          <p className="hint center">
            {t("errorLoading")}{" "}
            <button type="button" onClick={() => void client.loadThread(conversationId, rootId)}>
              {t("tryAgain")}
            </button>
          </p>
        )}
        <ol className="messages">
          {items.map((item, i) => [
            <MessageRow
              key={item.key}
              item={item}
              // The root stands alone; replies group by sender like the timeline.
              first={i <= 1 || items[i - 1].sender_id !== item.sender_id}
              conversationId={conversationId}
              lang={lang}
              tz={tz}
              me={me}
              external={external.has(item.sender_id)}
              highlighted={highlight !== null && item.message?.seq === highlight}
              saved={Boolean(item.message && savedIds?.[item.message.id])}
              receipt={false}
              inThread
            />,
            i === 0 && thread?.root ? (
              <li key="count" className="thread-count hint" data-testid="thread-reply-count" role="separator">
                {(thread.root.reply_count ?? thread.replies.length) === 1
                  ? t("oneReply")
                  : t("replies", { n: thread.root.reply_count ?? thread.replies.length })}
              </li>
            ) : null,
          ])}
        </ol>
      </div>
      {thread?.root && !thread.root.deleted && <Composer id={conversationId} name="" threadRootId={rootId} />}
    </aside>
  );
}
