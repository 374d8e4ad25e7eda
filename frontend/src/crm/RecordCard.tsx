// A live ERP/CRM record card: type and number, status, counterparty, amount and currency,
// amount due and due date, key lines with stock flags, owner, and "as of 10:42 from <source>"
// — or, while the source is unreachable, a stale badge saying since when.

import { useHub } from "../hooks";
import type { Lang } from "../i18n";
import { translate } from "../i18n";
import { asOfText, type Card, formatMoney, formatQuantity, isOverdue, recordTypeLabel, statusTone } from "./cardLogic";
import { refreshCard, useCard } from "./cardStore";

export function RecordCard({ cardRef, lang }: { cardRef: string; lang: Lang }) {
  const workspace = useHub((s) => s.workspaceId);
  const entry = useCard(workspace, cardRef);
  const t = (key: Parameters<typeof translate>[1], vars?: Record<string, string | number>) => translate(lang, key, vars);
  if (!entry || (!entry.card && !entry.problem)) {
    return (
      <div className="record-card loading" data-testid="record-card" aria-busy="true">
        {t("cardLoading")}
      </div>
    );
  }
  if (!entry.card) {
    // Not visible to this person (another company's record for a guest) or not loadable:
    // say little — a guest must not learn what the record is.
    return entry.problem === "error" ? (
      <div className="record-card unavailable" data-testid="record-card">
        {t("cardUnavailable")}
      </div>
    ) : null;
  }
  return <CardBody card={entry.card} lang={lang} />;
}

function CardBody({ card, lang }: { card: Card; lang: Lang }) {
  const tz = useHub((s) => s.me.time_zone);
  const t = (key: Parameters<typeof translate>[1], vars?: Record<string, string | number>) => translate(lang, key, vars);
  const today = new Date().toISOString().slice(0, 10);
  const overdue = isOverdue(card, today);
  const internal = card.internal ?? {};
  const margin = typeof internal.margin === "string" ? internal.margin : null;
  return (
    <section
      className={`record-card${card.stale_since ? " stale" : ""}`}
      data-testid="record-card"
      data-ref={card.ref}
      data-status={card.status}
      aria-label={`${recordTypeLabel(card.record_type, lang)} ${card.number}`}
    >
      <header className="record-head">
        <span className="record-type">{recordTypeLabel(card.record_type, lang)}</span>
        {card.url ? (
          <a className="record-number" href={card.url} target="_blank" rel="noreferrer noopener">
            {card.number}
          </a>
        ) : (
          <strong className="record-number">{card.number}</strong>
        )}
        <span className={`record-status tone-${statusTone(card.status)}`} data-testid="record-status">
          {card.status_label || card.status}
        </span>
      </header>
      {(card.counterparty_name || card.title) && (
        <div className="record-party">{card.counterparty_name || card.title}</div>
      )}
      {(card.amount || card.amount_due) && (
        <dl className="record-money">
          {card.amount && (
            <>
              <dt>{t("cardAmount")}</dt>
              <dd>{formatMoney(card.amount)}</dd>
            </>
          )}
          {card.amount_due && (
            <>
              <dt>{t("cardAmountDue")}</dt>
              <dd className={overdue ? "overdue" : undefined}>
                {formatMoney(card.amount_due)}
                {card.due_date && ` · ${t("cardDueOn", { date: card.due_date })}`}
              </dd>
            </>
          )}
          {margin !== null && (
            <>
              <dt>{t("cardMargin")}</dt>
              <dd className="internal">{formatMoney({ amount: margin, currency: card.amount?.currency ?? "CNY" })}</dd>
            </>
          )}
        </dl>
      )}
      {card.lines.length > 0 && (
        <ul className="record-lines">
          {card.lines.map((line, i) => (
            <li key={i} className={line.short ? "short" : undefined}>
              <span className="line-name">{line.name}</span>
              <span className="line-qty">× {formatQuantity(line.quantity)}</span>
              {line.amount && <span className="line-amount">{formatMoney(line.amount)}</span>}
              {line.short && line.available !== null && (
                <span className="stock-flag" title={t("cardShortTitle")}>
                  ⚠ {t("cardShort", { n: formatQuantity(line.available) })}
                </span>
              )}
            </li>
          ))}
          {card.more_lines > 0 && <li className="more">{t("cardMoreLines", { n: card.more_lines })}</li>}
        </ul>
      )}
      <footer className="record-foot">
        {card.owner && <span>{t("cardOwner", { name: card.owner })}</span>}
        <span className={card.stale_since ? "stale-badge" : "as-of"} data-testid="record-as-of">
          {asOfText(card, lang, tz)}
        </span>
        {card.stale_since && (
          <button type="button" className="link" onClick={() => void refreshCard(card.ref)}>
            {t("cardRefresh")}
          </button>
        )}
      </footer>
    </section>
  );
}
