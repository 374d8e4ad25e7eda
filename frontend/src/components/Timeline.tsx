// The conversation's timeline, virtualised with @tanstack/react-virtual: only the rows near the
// viewport are in the DOM (a 10,000-message history costs the same to scroll as 50), each
// measured as it renders. On top of the virtualiser:
//
// * stick to the bottom while the newest message is in view (new messages, images loading);
// * keep the reading position when older history is prepended (anchor on the first visible
//   row's key and its offset, restored after the new rows are laid out);
// * page older history near the top, newer history near the bottom of a jump window;
// * a "new messages" / "jump to latest" button when not at the bottom;
// * jump to a message (search, pins, links): scroll it to the centre and flash it.

import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { layoutRows, validTimeZone, type Row } from "../format";
import { useClient, useHub, useT } from "../hooks";
import { pendingFor, timeline } from "../store";
import { MessageRow, type Item } from "./MessageRow";

const NO_PEOPLE: never[] = [];
const NEAR_EDGE_PX = 400;
const AT_BOTTOM_PX = 48;

/** Row 0 is a fixed-height slot for "start of the conversation" / "loading earlier…": text
 * appearing above the list would shift every row under the reader. */
type VRow = Row<Item> | { kind: "top"; key: "top" };
const TOP_ROW: VRow = { kind: "top", key: "top" };
const TOP_PX = 40;

function estimate(row: VRow | undefined): number {
  if (!row) return 40;
  if (row.kind === "top") return TOP_PX;
  if (row.kind === "day") return 44;
  return row.first ? 62 : 26;
}

export function Timeline({ id }: { id: number }) {
  const client = useClient();
  const t = useT();
  const lang = useHub((s) => s.lang);
  const me = useHub((s) => s.me);
  const conv = useHub((s) => s.convs[id]);
  const loadingOlder = useHub((s) => Boolean(s.loadingOlder[id]));
  const historyError = useHub((s) => Boolean(s.historyError[id]));
  const members = useHub((s) => s.members[id] ?? NO_PEOPLE);
  const savedIds = useHub((s) => s.savedIds);
  const highlight = useHub((s) => (s.highlight?.conversationId === id ? s.highlight.seq : null));
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(!client.state.highlight || client.state.highlight.conversationId !== id);
  const anchor = useRef<{ key: string; offset: number } | null>(null);
  const [away, setAway] = useState(false);
  const [unseen, setUnseen] = useState(false);

  const items = useMemo<Item[]>(() => {
    const stored: Item[] = timeline(conv).map((m) => ({
      key: `m${m.id}`,
      sender_id: m.sender_id,
      created_at: m.created_at,
      message: m,
    }));
    // Local echoes belong after the newest message; in a jump window they would be out of place.
    const pending: Item[] = conv.hasMoreAfter
      ? []
      : pendingFor(conv, null).map((p) => ({
          key: `p${p.client_id}`,
          sender_id: me.id,
          created_at: p.created_at,
          pending: p,
        }));
    return [...stored, ...pending];
  }, [conv, me.id]);
  const tz = validTimeZone(me.time_zone);
  const rows = useMemo<VRow[]>(() => [TOP_ROW, ...layoutRows(items, lang, tz)], [items, lang, tz]);
  const external = useMemo(() => new Set(members.filter((m) => m.is_external).map((m) => m.user_id)), [members]);
  const receiptFor = useMemo(() => {
    if (conv.hasMoreAfter) return null;
    for (let i = items.length - 1; i >= 0; i--) {
      const m = items[i].message;
      if (m && m.sender_id === me.id && !m.deleted) return m.id;
    }
    return null;
  }, [items, me.id, conv.hasMoreAfter]);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: (index) => estimate(rows[index]),
    getItemKey: (index) => rows[index]?.key ?? index,
    overscan: 10,
  });
  const measure = useCallback((el: HTMLElement | null) => virtualizer.measureElement(el), [virtualizer]);

  const atBottomNow = (el: HTMLElement) => el.scrollHeight - el.scrollTop - el.clientHeight < AT_BOTTOM_PX;

  /** The first row in view and how far its top is from the viewport's top. */
  const rememberAnchor = () => {
    const el = scroller.current;
    if (!el) return;
    const top = el.scrollTop;
    // Never the top slot: it stays at index 0 when history is prepended, so anchoring on it
    // would throw the reader to the start of what was just loaded.
    const first = virtualizer.getVirtualItems().find((v) => v.end > top && v.key !== "top");
    anchor.current = first ? { key: String(first.key), offset: first.start - top } : null;
  };

  // After every render: at the bottom when stuck there (new rows, rows measured taller than
  // estimated, images loading), else on the anchored row when rows were added above it.
  const firstKey = rows[1]?.key;
  const lastFirstKey = useRef(firstKey);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    // The composer sets client.atBottom when the person sends: follow their message down.
    if (client.atBottom && !conv.hasMoreAfter) stick.current = true;
    if (stick.current && conv.historyLoaded && !conv.hasMoreAfter) {
      if (!atBottomNow(el)) el.scrollTop = el.scrollHeight;
    } else if (firstKey !== lastFirstKey.current && anchor.current) {
      const index = rows.findIndex((r) => r.key === anchor.current!.key);
      const start = index >= 0 ? virtualizer.measurementsCache[index]?.start : undefined;
      if (start !== undefined) el.scrollTop = start - anchor.current.offset;
    }
    lastFirstKey.current = firstKey;
  });

  // A short page does not scroll, so fetch more until it does (or history ends).
  const total = virtualizer.getTotalSize();
  useEffect(() => {
    const el = scroller.current;
    if (el && conv.historyLoaded && conv.hasMoreBefore && total <= el.clientHeight + 10) void client.loadOlder(id);
  }, [total, conv.historyLoaded, conv.hasMoreBefore, client, id]);

  // New messages while scrolled up: offer the jump instead of moving the page under the reader.
  const lastKey = rows[rows.length - 1]?.key;
  const seenLastKey = useRef(lastKey);
  // (A jump window's rows change at both ends as it pages: that is not news.)
  const windowed = conv.hasMoreAfter;
  useEffect(() => {
    if (stick.current || windowed) seenLastKey.current = lastKey;
    else if (lastKey !== seenLastKey.current) setUnseen(true);
  }, [lastKey, windowed]);

  // Jump to a message: once its row exists, centre it; the row flashes while highlighted.
  const jumped = useRef<number | null>(null);
  useEffect(() => {
    if (highlight === null) {
      jumped.current = null;
      return;
    }
    const index = rows.findIndex((r) => r.kind === "message" && r.item.message?.seq === highlight);
    if (index < 0 || jumped.current === highlight) return;
    jumped.current = highlight;
    stick.current = false;
    client.atBottom = false;
    virtualizer.scrollToIndex(index, { align: "center" });
    // Sizes near the target are estimates until rendered: centre again once measured.
    const settle = requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        scroller.current?.querySelector(`[data-seq="${highlight}"]`)?.scrollIntoView({ block: "center" });
        rememberAnchor();
      }),
    );
    const timer = setTimeout(() => client.clearHighlight(), 2500);
    return () => {
      cancelAnimationFrame(settle);
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [highlight, rows, client, virtualizer]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const bottom = atBottomNow(el);
    stick.current = bottom && !conv.hasMoreAfter;
    client.atBottom = stick.current;
    setAway(!stick.current);
    if (stick.current) {
      setUnseen(false);
      seenLastKey.current = lastKey;
      client.scheduleMarkRead();
    }
    rememberAnchor();
    if (el.scrollTop < NEAR_EDGE_PX) void client.loadOlder(id);
    if (conv.hasMoreAfter && el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_EDGE_PX) void client.loadNewer(id);
  };

  const toLatest = async () => {
    setUnseen(false);
    setAway(false);
    stick.current = true;
    client.atBottom = true;
    if (conv.hasMoreAfter) await client.jumpToLatest(id);
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
    client.scheduleMarkRead();
  };

  const virtualItems = virtualizer.getVirtualItems();
  const before = virtualItems[0]?.start ?? 0;
  const after = total - (virtualItems[virtualItems.length - 1]?.end ?? 0);
  return (
    <div className="timeline-wrap">
      <div
        className="scroller"
        ref={scroller}
        onScroll={onScroll}
        data-testid="timeline"
        tabIndex={0}
        aria-label={t("messagesLabel")}
        onKeyDown={(e) => {
          if (e.key === "End" && (e.ctrlKey || e.metaKey)) void toLatest();
        }}
      >
        {!conv.historyLoaded && !historyError && <p className="hint center">{t("loading")}</p>}
        {historyError && (
          <p className="hint center">
            {t("errorLoading")}{" "}
            <button type="button" onClick={() => void client.loadLatest(id)}>
              {t("tryAgain")}
            </button>
          </p>
        )}
        <ol className="messages" aria-live="polite" style={{ paddingTop: before, paddingBottom: Math.max(0, after) }}>
          {virtualItems.map((v) => {
            const row = rows[v.index];
            if (!row) return null;
            if (row.kind === "top") {
              return (
                <li key="top" className="top-slot" data-index={v.index} ref={measure} style={{ height: TOP_PX }}>
                  {conv.historyLoaded && !conv.hasMoreBefore ? (
                    <span className="hint">{t("startOfConversation")}</span>
                  ) : loadingOlder ? (
                    <span className="hint">{t("loadingOlder")}</span>
                  ) : null}
                </li>
              );
            }
            return row.kind === "day" ? (
              <li key={row.key} className="day" role="separator" data-index={v.index} ref={measure}>
                <span>{row.label}</span>
              </li>
            ) : (
              <MessageRow
                key={row.key}
                index={v.index}
                measure={measure}
                item={row.item}
                first={row.first}
                conversationId={id}
                lang={lang}
                tz={tz}
                me={me}
                external={external.has(row.item.sender_id)}
                highlighted={highlight !== null && row.item.message?.seq === highlight}
                saved={Boolean(row.item.message && savedIds?.[row.item.message.id])}
                receipt={row.item.message !== undefined && row.item.message.id === receiptFor}
              />
            );
          })}
        </ol>
      </div>
      {(away && (unseen || conv.hasMoreAfter)) && (
        <button type="button" className="jump-latest" data-testid="jump-latest" onClick={() => void toLatest()}>
          {unseen ? t("newMessages") : t("jumpToLatest")} ↓
        </button>
      )}
    </div>
  );
}
