// The records area (a lazy chunk): search ERP records by type, and one record's page — its
// live card, its details (stock and prices for a product), and for customers and suppliers
// the timeline of every conversation about them with "log to ERP". What a guest may see is
// cut by the server; the screen only leaves out the actions a guest cannot take.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { recordTypeLabel, type Card } from "../crm/cardLogic";
import "../crm/crm.css";
import { RecordCard } from "../crm/RecordCard";
import { useClient, useHub } from "../hooks";
import { recordsApi, type RecordId } from "./api";
import { fieldText } from "./fields";
import { useRecordsT } from "./i18n";
import "./records.css";
import { openRecordsPath } from "./RecordsLink";
import { PARTY_TYPES, recordPath, recordsPath, SEARCH_TYPES, type RecordsRoute, type SearchType } from "./route";
import { RecordTimeline } from "./Timeline";

export default function RecordsScreen({ route }: { route: RecordsRoute }) {
  return route.view === "search" ? (
    <RecordSearch key={route.type} workspaceId={route.workspaceId} type={route.type} />
  ) : (
    <RecordPage
      key={`${route.sourceId}:${route.type}:${route.key}`}
      workspaceId={route.workspaceId}
      record={{ source_id: route.sourceId, record_type: route.type, key: route.key }}
    />
  );
}

export function useIsGuest(): boolean {
  return useHub((s) => s.me.workspaces.find((w) => w.id === s.workspaceId)?.role === "guest");
}

function BackToConversations() {
  const client = useClient();
  const t = useRecordsT();
  const workspaceId = useHub((s) => s.workspaceId);
  // Phones show one pane at a time; this is the way back to the list (as in a conversation).
  return (
    <button
      type="button"
      className="back"
      aria-label={t("backToConversations")}
      onClick={() => client.navigate({ workspaceId, conversationId: null })}
    >
      ‹
    </button>
  );
}

function TypeTabs({ workspaceId, current }: { workspaceId: number; current: SearchType }) {
  const t = useRecordsT();
  const lang = useHub((s) => s.lang);
  return (
    <nav className="record-types" aria-label={t("recordTypes")}>
      {SEARCH_TYPES.map((type) => (
        <a
          key={type}
          href={recordsPath(workspaceId, type)}
          aria-current={type === current ? "page" : undefined}
          data-testid={`record-type-${type}`}
          onClick={(e) => {
            e.preventDefault();
            openRecordsPath(recordsPath(workspaceId, type));
          }}
        >
          {recordTypeLabel(type, lang)}
        </a>
      ))}
    </nav>
  );
}

function RecordSearch({ workspaceId, type }: { workspaceId: number; type: SearchType }) {
  const t = useRecordsT();
  const [draft, setDraft] = useState("");
  const [query, setQuery] = useState("");
  const [cards, setCards] = useState<Card[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    setCards(null);
    setError("");
    recordsApi.search(workspaceId, type, query).then(
      (page) => live && setCards(page.cards),
      (err: unknown) => live && setError(err instanceof ApiError ? err.message : t("error")),
    );
    return () => {
      live = false;
    };
  }, [workspaceId, type, query, t]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setQuery(draft.trim());
  };
  return (
    <section className="records" aria-label={t("records")}>
      <header className="conv-head">
        <BackToConversations />
        <h1>{t("records")}</h1>
      </header>
      <div className="records-body">
        <TypeTabs workspaceId={workspaceId} current={type} />
        <form className="records-search" role="search" onSubmit={submit}>
          <input
            type="search"
            aria-label={t("searchLabel")}
            placeholder={t("searchPlaceholder")}
            value={draft}
            maxLength={100}
            onChange={(e) => setDraft(e.target.value)}
          />
          <button type="submit">{t("search")}</button>
        </form>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        {cards === null && !error && <p className="hint">{t("loading")}</p>}
        {cards?.length === 0 && <p className="hint">{t("noResults")}</p>}
        <ul className="record-results" data-testid="record-results">
          {cards?.map((card) => (
            <li key={card.ref}>
              <a
                className="record-result"
                href={recordPath(workspaceId, card.source_id, card.record_type, card.key)}
                onClick={(e) => {
                  e.preventDefault();
                  openRecordsPath(recordPath(workspaceId, card.source_id, card.record_type, card.key));
                }}
              >
                <strong>{card.number}</strong>
                <span className="record-result-name">{card.title || card.counterparty_name}</span>
                {card.status_label && <span className="hint">{card.status_label}</span>}
              </a>
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}

function RecordPage({ workspaceId, record }: { workspaceId: number; record: RecordId }) {
  const t = useRecordsT();
  const lang = useHub((s) => s.lang);
  const isGuest = useIsGuest();
  const [card, setCard] = useState<Card | null>(null);
  const [problem, setProblem] = useState<"missing" | "error" | null>(null);
  const { source_id, record_type, key } = record;
  // Keyed on the id's parts: the parent builds a new `record` object on every render.
  const load = useCallback(() => {
    setProblem(null);
    recordsApi.card({ source_id, record_type, key }).then(setCard, (err: unknown) =>
      setProblem(err instanceof ApiError && err.status === 404 ? "missing" : "error"),
    );
  }, [source_id, record_type, key]);
  useEffect(load, [load]);
  const back = recordsPath(workspaceId, (SEARCH_TYPES as readonly string[]).includes(record.record_type) ? (record.record_type as SearchType) : "customer");
  return (
    <section className="records" aria-label={card ? `${recordTypeLabel(card.record_type, lang)} ${card.number}` : t("records")}>
      <header className="conv-head">
        <BackToConversations />
        <a
          className="records-up"
          href={back}
          onClick={(e) => {
            e.preventDefault();
            openRecordsPath(back);
          }}
        >
          {t("backToSearch")}
        </a>
        {card && <h1>{card.number}</h1>}
      </header>
      <div className="records-body">
        {problem === "missing" && (
          <p className="empty" role="alert">
            {t("notFound")}
          </p>
        )}
        {problem === "error" && (
          <p className="form-error" role="alert">
            {t("error")}{" "}
            <button type="button" className="link" onClick={load}>
              {t("tryAgain")}
            </button>
          </p>
        )}
        {!card && !problem && <p className="hint">{t("loading")}</p>}
        {card && (
          <>
            <RecordCard cardRef={card.ref} lang={lang} />
            {!isGuest && <OpenRoomButton record={record} />}
            <RecordDetails fields={card.fields} />
            {PARTY_TYPES.includes(card.record_type) && <RecordTimeline record={record} canLog={!isGuest} />}
          </>
        )}
      </div>
    </section>
  );
}

function OpenRoomButton({ record }: { record: RecordId }) {
  const client = useClient();
  const t = useRecordsT();
  const workspaceId = useHub((s) => s.workspaceId);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const open = async () => {
    setBusy(true);
    setError("");
    try {
      const room = await recordsApi.openRoom(record);
      // A room made just now is not in the sidebar yet: refresh the list before going there.
      await client.loadConversations();
      client.navigate({ workspaceId, conversationId: room.conversation_id });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t("error"));
      setBusy(false);
    }
  };
  return (
    <div className="record-actions">
      <button type="button" onClick={() => void open()} disabled={busy}>
        {t("openRoom")}
      </button>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function RecordDetails({ fields }: { fields: Record<string, unknown> }) {
  const t = useRecordsT();
  const entries = Object.entries(fields);
  if (!entries.length) return null;
  return (
    <section className="record-details" aria-label={t("details")}>
      <h2>{t("details")}</h2>
      <dl data-testid="record-details">
        {entries.map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{fieldText(value)}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
