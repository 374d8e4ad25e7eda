// Search: the header box and the results panel — operator help, filter chips (from / in /
// has / date) that edit the query, newest / best-match order, highlighted snippets, paging,
// and a jump to the message in its context (its thread for replies).

import { useEffect, useState, type FormEvent } from "react";
import { SEARCH_PAGE } from "../client";
import { dayKey, timeLabel, validTimeZone } from "../format";
import { useClient, useHub, useT } from "../hooks";
import type { MessageKey } from "../i18n";
import { addChip, chipsOf, removeChip, type FilterKey } from "./searchQuery";

export function SearchBox() {
  const client = useClient();
  const t = useT();
  const current = useHub((s) => s.search?.q);
  const [q, setQ] = useState("");
  // The panel's chips rewrite the query: keep the box showing what was searched.
  useEffect(() => {
    if (current !== undefined) setQ(current);
  }, [current]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void client.search(q);
  };
  return (
    <form role="search" className="search-box" onSubmit={submit}>
      <input
        type="search"
        aria-label={t("search")}
        placeholder={t("search")}
        title={t("searchPlaceholder")}
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
    </form>
  );
}

const HELP: [string, MessageKey][] = [
  ["订单 发货", "helpWords"],
  ['"客户的订单"', "helpPhrase"],
  ["-取消", "helpExclude"],
  ["from:@张三", "helpFrom"],
  ["in:#销售", "helpIn"],
  ["has:file", "helpHas"],
  ["after:2026-05-01", "helpDate"],
  ["mentions:@me", "helpMentions"],
];

const ADDABLE: { key: FilterKey; label: MessageKey; placeholder: string }[] = [
  { key: "from", label: "filterFrom", placeholder: "@张三" },
  { key: "in", label: "filterIn", placeholder: "#销售" },
  { key: "has", label: "filterHas", placeholder: "file / link" },
  { key: "after", label: "filterAfter", placeholder: "2026-05-01" },
  { key: "before", label: "filterBefore", placeholder: "2026-05-31" },
  { key: "on", label: "filterOn", placeholder: "today" },
];

function FilterAdder({ q }: { q: string }) {
  const client = useClient();
  const t = useT();
  const [key, setKey] = useState<FilterKey>("from");
  const [value, setValue] = useState("");
  const spec = ADDABLE.find((a) => a.key === key)!;
  return (
    <form
      className="filter-adder"
      onSubmit={(e) => {
        e.preventDefault();
        if (!value.trim()) return;
        void client.search(addChip(q, key, value));
        setValue("");
      }}
    >
      <select aria-label={t("filterKind")} value={key} onChange={(e) => setKey(e.target.value as FilterKey)}>
        {ADDABLE.map((a) => (
          <option key={a.key} value={a.key}>
            {t(a.label)}
          </option>
        ))}
      </select>
      {key === "has" ? (
        <select aria-label={t("filterValue")} value={value} onChange={(e) => setValue(e.target.value)}>
          <option value="">…</option>
          <option value="file">{t("hasFile")}</option>
          <option value="link">{t("hasLink")}</option>
          <option value="record">{t("hasRecord")}</option>
        </select>
      ) : (
        <input
          type={key === "after" || key === "before" ? "date" : "text"}
          aria-label={t("filterValue")}
          placeholder={spec.placeholder}
          value={value}
          onChange={(e) => setValue(e.target.value)}
        />
      )}
      <button type="submit" disabled={!value.trim()}>
        {t("addFilter")}
      </button>
    </form>
  );
}

export function SearchPanel() {
  const client = useClient();
  const t = useT();
  const search = useHub((s) => s.search);
  const lang = useHub((s) => s.lang);
  const me = useHub((s) => s.me);
  const [help, setHelp] = useState(false);
  if (!search) return null;
  const tz = validTimeZone(me.time_zone);
  const chips = chipsOf(search.q);
  const more = search.status === "ready" && search.results.length < search.total && search.results.length >= search.page * SEARCH_PAGE;
  return (
    <section className="search-panel" aria-label={t("search")} data-testid="search-panel">
      <header className="conv-head">
        <button type="button" className="back" onClick={() => client.closeSearch()} aria-label={t("closeSearch")}>
          ‹
        </button>
        <h1>
          {t("search")}: {search.q}
        </h1>
        <span className="spacer" />
        <button type="button" className="close" onClick={() => client.closeSearch()} aria-label={t("closeSearch")}>
          ×
        </button>
      </header>
      <div className="search-tools">
        <div className="chips" aria-label={t("filters")}>
          {chips.map((chip) => (
            <span key={chip.raw} className="chip" data-testid="search-chip">
              <span>
                {t(ADDABLE.find((a) => a.key === chip.key)?.label ?? "filterOther")} {chip.value}
              </span>
              <button
                type="button"
                aria-label={t("removeFilter", { filter: chip.raw })}
                onClick={() => {
                  // The last filter of a filters-only query: nothing left to search for.
                  const rest = removeChip(search.q, chip);
                  if (rest) void client.search(rest);
                  else client.closeSearch();
                }}
              >
                ×
              </button>
            </span>
          ))}
        </div>
        <FilterAdder q={search.q} />
        <div className="order" role="group" aria-label={t("sortBy")}>
          {(["newest", "relevance"] as const).map((order) => (
            <button
              key={order}
              type="button"
              aria-pressed={search.order === order}
              data-testid={`order-${order}`}
              onClick={() => void client.search(search.q, { order })}
            >
              {t(order === "newest" ? "orderNewest" : "orderBest")}
            </button>
          ))}
          <button type="button" className="help-toggle" aria-expanded={help} onClick={() => setHelp(!help)}>
            {t("searchHelp")}
          </button>
        </div>
        {help && (
          <dl className="search-help" data-testid="search-help">
            {HELP.map(([example, key]) => (
              <div key={example}>
                <dt>
                  <code>{example}</code>
                </dt>
                <dd>{t(key)}</dd>
              </div>
            ))}
          </dl>
        )}
      </div>
      <div className="scroller">
        {search.status === "error" && (
          <p className="hint center" role="alert">
            {t("searchFailed", { message: search.error ?? "" })}
          </p>
        )}
        {search.status === "ready" && (
          <p className="hint center" data-testid="result-count">
            {search.results.length
              ? t(search.totalExact === false ? "resultCountAbout" : "resultCount", { n: search.total })
              : t("noResults")}
          </p>
        )}
        <ol className="results">
          {search.results.map((r) => (
            <li key={r.message_id}>
              <button type="button" className="result" data-testid="search-result" onClick={() => void client.openResult(r)}>
                <span className="where">
                  {r.conversation_kind === "public" || r.conversation_kind === "private" ? "# " : ""}
                  {r.conversation_name} · {r.sender_name} · {dayKey(r.created_at, tz)} {timeLabel(r.created_at, lang, tz)}
                  {r.thread_root_id ? ` · ${t("inThread")}` : ""}
                </span>
                {/* The server escapes the text and adds only <mark>. */}
                <span className="snippet" dangerouslySetInnerHTML={{ __html: r.snippet }} />
              </button>
            </li>
          ))}
        </ol>
        {search.status === "loading" && <p className="hint center">{t("searching")}</p>}
        {more && (
          <p className="center">
            <button
              type="button"
              className="more-results"
              data-testid="more-results"
              onClick={() => void client.search(search.q, { order: search.order, page: search.page + 1 })}
            >
              {t("moreResults")}
            </button>
          </p>
        )}
      </div>
    </section>
  );
}
