// One open conversation: header (topic, partner companies of a shared channel, pins /
// members / saved buttons), the virtualised timeline, the typing line and the composer, a
// drop zone for files over the whole conversation, and the side panel (thread, pins, members,
// saved) — beside it on a wide screen, a full-screen pane with "back" on a phone.

import { useRef, useState, type DragEvent } from "react";
import { useClient, useHub, useT } from "../hooks";
import { Composer, type ComposerHandle } from "./Composer";
import { ForwardDialog } from "./ForwardDialog";
import { conversationLabel } from "./Sidebar";
import { MembersPanel, PinsPanel, SavedPanel } from "./SidePanels";
import { ThreadPanel } from "./ThreadPanel";
import { Timeline } from "./Timeline";

const NO_PARTNERS: { id: number; name: string }[] = [];

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

function SidePanel({ id }: { id: number }) {
  const panel = useHub((s) => s.panel);
  if (!panel) return null;
  if (panel.kind === "saved") return <SavedPanel />;
  if (panel.conversationId !== id) return null;
  if (panel.kind === "thread") return <ThreadPanel key={panel.rootId} conversationId={id} rootId={panel.rootId} />;
  if (panel.kind === "pins") return <PinsPanel conversationId={id} />;
  return <MembersPanel conversationId={id} />;
}

export function ConversationView({ id }: { id: number }) {
  const client = useClient();
  const t = useT();
  const workspaceId = useHub((s) => s.workspaceId);
  const summary = useHub((s) => s.conversations.find((c) => c.id === id));
  const conv = useHub((s) => s.convs[id]);
  const people = useHub((s) => s.people[id]);
  const partners = useHub((s) => s.partners[id] ?? NO_PARTNERS);
  const panel = useHub((s) => s.panel);
  const memberCount = useHub((s) => s.members[id]?.length);
  const composer = useRef<ComposerHandle>(null);
  const [dragging, setDragging] = useState(false);
  const dragDepth = useRef(0);
  if (!summary || !conv) return null;
  const name = conversationLabel(summary, people, summary.kind === "dm" ? t("directMessage") : t("group"));
  const title = summary.kind === "public" ? `# ${name}` : name;
  const toggle = (kind: "pins" | "members" | "saved") =>
    client.openPanel(panel?.kind === kind ? null : kind === "saved" ? { kind } : { kind, conversationId: id });
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes("Files");
  return (
    <div className={`conversation-area${panel ? " with-panel" : ""}`}>
      <section
        className={`conversation${dragging ? " dragging" : ""}`}
        aria-label={title}
        onDragEnter={(e) => {
          if (!hasFiles(e)) return;
          e.preventDefault();
          dragDepth.current += 1;
          setDragging(true);
        }}
        onDragOver={(e) => {
          if (!hasFiles(e)) return;
          e.preventDefault();
          e.dataTransfer.dropEffect = "copy";
        }}
        onDragLeave={() => {
          dragDepth.current = Math.max(0, dragDepth.current - 1);
          if (!dragDepth.current) setDragging(false);
        }}
        onDrop={(e) => {
          if (!hasFiles(e)) return;
          e.preventDefault();
          dragDepth.current = 0;
          setDragging(false);
          composer.current?.addFiles(Array.from(e.dataTransfer.files));
        }}
        data-testid="conversation"
      >
        <header className="conv-head">
          <button
            type="button"
            className="back"
            onClick={() => client.navigate({ workspaceId, conversationId: null })}
            aria-label={t("back")}
          >
            ‹
          </button>
          <div className="conv-title">
            <h1>{title}</h1>
            {partners.length > 0 ? (
              <span className="topic shared-with" data-testid="shared-with">
                <span className="tag guest">{t("external")}</span> {t("sharedWith", { names: partners.map((p) => p.name).join("、") })}
              </span>
            ) : (
              summary.topic && <span className="topic">{summary.topic}</span>
            )}
          </div>
          <span className="spacer" />
          <div className="head-actions">
            <button
              type="button"
              aria-label={t("members")}
              title={t("members")}
              aria-pressed={panel?.kind === "members"}
              data-testid="members-button"
              onClick={() => toggle("members")}
            >
              👥{memberCount ? <span className="count">{memberCount}</span> : null}
            </button>
            <button
              type="button"
              aria-label={t("pinnedMessages")}
              title={t("pinnedMessages")}
              aria-pressed={panel?.kind === "pins"}
              data-testid="pins-button"
              onClick={() => toggle("pins")}
            >
              📌
            </button>
            <button
              type="button"
              aria-label={t("savedMessages")}
              title={t("savedMessages")}
              aria-pressed={panel?.kind === "saved"}
              data-testid="saved-button"
              onClick={() => toggle("saved")}
            >
              ☆
            </button>
          </div>
        </header>
        <Timeline id={id} />
        <TypingLine id={id} />
        <Composer id={id} name={title} handle={composer} />
        {dragging && (
          <div className="drop-hint" aria-hidden="true">
            {t("dropFiles")}
          </div>
        )}
      </section>
      <SidePanel id={id} />
      <ForwardDialog />
    </div>
  );
}
