// Structured message content (messaging/blocks.py) drawn as components: header, section
// (server-sanitised HTML), fields, context, image, actions (with a comment dialog), record
// cards, chart (a small inline SVG), divider. `document` blocks are drawn by the documents
// app (DocumentBlocks). Below the blocks: the cards of records the message references.

import { useState } from "react";
import { useHub } from "../hooks";
import type { Lang } from "../i18n";
import { translate } from "../i18n";
import type { Message } from "../types";
import { crmApi } from "./api";
import { type Block, blockRef, chartBars, mightReference, renderableBlocks, safeHref } from "./cardLogic";
import { useAnyStale, useMessageRefs } from "./cardStore";
import { RecordCard } from "./RecordCard";
import "./crm.css";

export function MessageBlocks({ message, lang }: { message: Message; lang: Lang }) {
  const workspace = useHub((s) => s.workspaceId);
  const refs = useMessageRefs(workspace, mightReference(message.body) ? message.id : undefined);
  const blocks = renderableBlocks(message.blocks);
  if (!blocks.length && !refs.length) return null;
  return (
    <div className="message-blocks">
      <BlockList blocks={blocks} messageId={message.id} lang={lang} />
      {refs.length > 0 && (
        <div className="record-refs" data-testid="record-refs">
          {refs.map((ref) => (
            <RecordCard key={ref} cardRef={ref} lang={lang} />
          ))}
        </div>
      )}
    </div>
  );
}

/** Blocks of a message, or of an ephemeral command reply (``messageId`` null: no buttons to click). */
export function BlockList({ blocks, messageId, lang }: { blocks: Block[]; messageId: number | null; lang: Lang }) {
  const shown = renderableBlocks(blocks);
  const records = shown.map(blockRef).filter((ref): ref is string => ref !== null);
  const stale = useAnyStale(records);
  return (
    <>
      {shown.map((block, i) => (
        <BlockView key={i} block={block} messageId={messageId} lang={lang} stale={stale} />
      ))}
    </>
  );
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function BlockView({ block, messageId, lang, stale }: { block: Block; messageId: number | null; lang: Lang; stale: boolean }) {
  switch (block.type) {
    case "header":
      return <h4 className="block-header">{text(block.text)}</h4>;
    case "section":
      // Rendered from Markdown and sanitised (bleach allow-list) on the server.
      return <div className="block-section body" dangerouslySetInnerHTML={{ __html: text(block.html) }} />;
    case "fields": {
      const fields = Array.isArray(block.fields) ? (block.fields as { label?: unknown; value?: unknown }[]) : [];
      return (
        <dl className="block-fields">
          {fields.map((f, i) => (
            <div key={i}>
              <dt>{text(f.label)}</dt>
              <dd>{text(f.value)}</dd>
            </div>
          ))}
        </dl>
      );
    }
    case "context":
      return <div className="block-context">{text(block.text)}</div>;
    case "image": {
      const src = safeHref(block.url);
      return src ? <img className="block-image" src={src} alt={text(block.alt)} loading="lazy" /> : null;
    }
    case "actions":
      return <ActionsBlock block={block} messageId={messageId} lang={lang} stale={stale} />;
    case "record": {
      const ref = blockRef(block);
      return ref ? <RecordCard cardRef={ref} lang={lang} /> : null;
    }
    case "chart":
      return <ChartBlock block={block} />;
    case "divider":
      return <hr className="block-divider" />;
    default:
      return null; // "document": DocumentBlocks
  }
}

interface Button {
  id?: string;
  label?: string;
  style?: string;
  url?: string;
  needs_comment?: boolean;
  confirm?: string;
  disabled?: boolean;
}

function ActionsBlock({ block, messageId, lang, stale }: { block: Block; messageId: number | null; lang: Lang; stale: boolean }) {
  const t = (key: Parameters<typeof translate>[1]) => translate(lang, key);
  const buttons = Array.isArray(block.actions) ? (block.actions as Button[]) : [];
  const [busy, setBusy] = useState<string | null>(null);
  const [asking, setAsking] = useState<Button | null>(null);
  const [comment, setComment] = useState("");
  const [result, setResult] = useState<{ status: string; message: string } | null>(null);
  const click = async (button: Button, remark = "") => {
    if (!button.id || messageId === null || busy) return;
    setBusy(button.id);
    setResult(null);
    try {
      setResult(await crmApi.action(messageId, button.id, remark));
      setAsking(null);
      setComment("");
    } catch (err) {
      setResult({ status: "failed", message: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(null);
    }
  };
  const press = (button: Button) => {
    if (button.needs_comment) {
      setAsking(button);
      return;
    }
    if (button.confirm && !window.confirm(button.confirm)) return;
    void click(button);
  };
  return (
    <div className="block-actions">
      <div className="buttons">
        {buttons.map((button, i) => {
          const href = safeHref(button.url);
          if (href)
            return (
              <a key={i} className={`button ${button.style ?? "default"}`} href={href}>
                {button.label}
              </a>
            );
          return (
            <button
              key={i}
              type="button"
              className={`button ${button.style ?? "default"}`}
              // ERP writes wait while the record's card is stale (its source unreachable).
              disabled={
                Boolean(button.disabled) || messageId === null || busy !== null || (stale && Boolean(button.id?.startsWith("crm:")))
              }
              aria-busy={busy === button.id}
              data-action-id={button.id}
              onClick={() => press(button)}
            >
              {button.label}
            </button>
          );
        })}
      </div>
      {asking && (
        <form
          className="action-comment"
          role="dialog"
          aria-label={asking.label}
          onSubmit={(e) => {
            e.preventDefault();
            if (comment.trim()) void click(asking, comment.trim());
          }}
        >
          <label>
            {t("actionComment")}
            <textarea value={comment} maxLength={1000} onChange={(e) => setComment(e.target.value)} autoFocus />
          </label>
          <div className="buttons">
            <button type="submit" className={`button ${asking.style ?? "default"}`} disabled={!comment.trim() || busy !== null}>
              {asking.label}
            </button>
            <button type="button" className="button" onClick={() => setAsking(null)}>
              {t("cancel")}
            </button>
          </div>
        </form>
      )}
      {result && (
        <div className={`action-result ${result.status}`} role="status" data-testid="action-result">
          {result.message}
        </div>
      )}
    </div>
  );
}

function ChartBlock({ block }: { block: Block }) {
  const labels = Array.isArray(block.labels) ? block.labels.map(String) : [];
  const values = Array.isArray(block.values) ? block.values.map(Number) : [];
  const width = 280;
  const height = 80;
  const bars = chartBars(labels, values, width, height);
  const unit = text(block.unit);
  return (
    <figure className="block-chart">
      {text(block.title) && <figcaption>{text(block.title)}</figcaption>}
      <svg viewBox={`0 0 ${width} ${height + 14}`} width="100%" role="img" aria-label={text(block.title) || "chart"}>
        {bars.map((bar, i) => (
          <g key={i}>
            <rect x={bar.x} y={bar.y} width={bar.width} height={bar.height} rx={2}>
              <title>{`${bar.label}: ${bar.value.toLocaleString()} ${unit}`.trim()}</title>
            </rect>
            {(bars.length <= 12 || i % Math.ceil(bars.length / 12) === 0) && (
              <text x={bar.x + bar.width / 2} y={height + 11} textAnchor="middle">
                {bar.label}
              </text>
            )}
          </g>
        ))}
      </svg>
    </figure>
  );
}
