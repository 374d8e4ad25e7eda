// The customer (or supplier) timeline on a record page: every conversation in the party's
// rooms or referencing it, newest first, a page at a time; staff can choose messages and log
// them to the ERP as a note on the record.

import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../api";
import { useClient, useHub } from "../hooks";
import { recordsApi, type RecordId } from "./api";
import { useRecordsT } from "./i18n";
import { appendPage, chosenInOrder, toggleChosen, type TimelineEntry } from "./timeline";

function useWhen(): (iso: string) => string {
  const lang = useHub((s) => s.lang);
  const tz = useHub((s) => s.me.time_zone) || undefined;
  return useCallback(
    (iso: string) =>
      new Date(iso).toLocaleString(lang, { timeZone: tz, month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }),
    [lang, tz],
  );
}

export function RecordTimeline({ record, canLog }: { record: RecordId; canLog: boolean }) {
  const t = useRecordsT();
  const [entries, setEntries] = useState<TimelineEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [status, setStatus] = useState<"loading" | "ready" | "error">("loading");
  const [chosen, setChosen] = useState<ReadonlySet<number>>(new Set());
  const [notice, setNotice] = useState("");

  const { source_id, record_type, key } = record;
  // Keyed on the id's parts: the parent builds a new `record` object on every render.
  const load = useCallback(
    (before: number | null) => {
      setStatus("loading");
      recordsApi.timeline({ source_id, record_type, key }, before).then(
        (page) => {
          setEntries((loaded) => (before === null ? page.entries : appendPage(loaded, page.entries)));
          setNext(page.next_before);
          setStatus("ready");
        },
        () => setStatus("error"),
      );
    },
    [source_id, record_type, key],
  );
  useEffect(() => load(null), [load]);

  const log = async () => {
    setNotice("");
    try {
      const done = await recordsApi.log(record, chosenInOrder(entries, chosen));
      setChosen(new Set());
      setNotice(t("logged", { n: done.logged }));
    } catch (err) {
      setNotice(err instanceof ApiError ? err.message : t("error"));
    }
  };

  return (
    <section className="record-timeline" aria-label={t("timeline")} data-testid="record-timeline">
      <h2>{t("timeline")}</h2>
      {canLog && (
        <div className="timeline-actions">
          <button type="button" disabled={chosen.size === 0} onClick={() => void log()} data-testid="log-to-erp">
            {t("logToErp", { n: chosen.size })}
          </button>
          <span role="status" aria-live="polite" className="hint">
            {notice}
          </span>
        </div>
      )}
      {status === "ready" && entries.length === 0 && <p className="hint">{t("timelineEmpty")}</p>}
      <ol className="timeline-entries">
        {entries.map((entry) => (
          <TimelineItem
            key={entry.message_id}
            entry={entry}
            chosen={canLog ? chosen.has(entry.message_id) : null}
            onToggle={() => setChosen((c) => toggleChosen(c, entry.message_id))}
          />
        ))}
      </ol>
      {status === "loading" && <p className="hint">{t("loading")}</p>}
      {status === "error" && (
        <p className="form-error" role="alert">
          {t("error")}{" "}
          <button type="button" className="link" onClick={() => load(entries.length ? next : null)}>
            {t("tryAgain")}
          </button>
        </p>
      )}
      {status === "ready" && next !== null && (
        <button type="button" className="secondary more" onClick={() => load(next)}>
          {t("timelineMore")}
        </button>
      )}
    </section>
  );
}

function TimelineItem({
  entry,
  chosen,
  onToggle,
}: {
  entry: TimelineEntry;
  chosen: boolean | null;
  onToggle: () => void;
}) {
  const client = useClient();
  const t = useRecordsT();
  const when = useWhen();
  const workspaceId = useHub((s) => s.workspaceId);
  return (
    <li className="timeline-entry" data-testid="timeline-entry" data-message-id={entry.message_id}>
      {chosen !== null && (
        <label className="choose">
          <input type="checkbox" checked={chosen} onChange={onToggle} />
          <span className="visually-hidden">{t("chooseMessage")}</span>
        </label>
      )}
      <div className="timeline-main">
        <div className="timeline-meta">
          <strong>{entry.sender_name}</strong>
          <a
            href={`/app/w/${workspaceId}/c/${entry.conversation_id}/m/${entry.message_id}/`}
            title={t("openInConversation")}
            onClick={(e) => {
              e.preventDefault();
              client.navigate({ workspaceId, conversationId: entry.conversation_id, messageId: entry.message_id });
            }}
          >
            #{entry.conversation_name}
          </a>
          <span className="hint">{entry.via === "room" ? t("viaRoom") : t("viaReference")}</span>
          <time className="hint" dateTime={entry.created_at}>
            {when(entry.created_at)}
          </time>
        </div>
        <p className="timeline-text">{entry.text}</p>
      </div>
    </li>
  );
}
