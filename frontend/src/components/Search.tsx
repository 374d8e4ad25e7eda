import { useState, type FormEvent } from "react";
import { dayKey, timeLabel, validTimeZone } from "../format";
import { useClient, useHub, useT } from "../hooks";

export function SearchBox() {
  const client = useClient();
  const t = useT();
  const [q, setQ] = useState("");
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

export function SearchPanel() {
  const client = useClient();
  const t = useT();
  const search = useHub((s) => s.search);
  const lang = useHub((s) => s.lang);
  const me = useHub((s) => s.me);
  if (!search) return null;
  const tz = validTimeZone(me.time_zone);
  return (
    <section className="search-panel" aria-label={t("search")}>
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
      <div className="scroller">
        {search.status === "loading" && <p className="hint center">{t("searching")}</p>}
        {search.status === "error" && (
          <p className="hint center" role="alert">
            {t("searchFailed", { message: search.error ?? "" })}
          </p>
        )}
        {search.status === "ready" && (
          <p className="hint center">{search.results.length ? t("resultCount", { n: search.total }) : t("noResults")}</p>
        )}
        <ol className="results">
          {search.results.map((r) => (
            <li key={r.message_id}>
              <button
                type="button"
                className="result"
                data-testid="search-result"
                onClick={() => {
                  if (r.thread_root_id) {
                    // Replies live in the thread panel (not yet built): open the conversation.
                    client.closeSearch();
                    client.navigate({ workspaceId: client.state.workspaceId, conversationId: r.conversation_id });
                  } else void client.jumpTo(r.conversation_id, r.seq);
                }}
              >
                <span className="where">
                  {r.conversation_kind === "public" ? "# " : ""}
                  {r.conversation_name} · {r.sender_name} · {dayKey(r.created_at, tz)} {timeLabel(r.created_at, lang, tz)}
                </span>
                {/* The server escapes the text and adds only <mark>. */}
                <span className="snippet" dangerouslySetInnerHTML={{ __html: r.snippet }} />
              </button>
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
