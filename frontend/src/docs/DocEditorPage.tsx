// One open document: title (rename), who is here, save status, toolbar, the collaborative
// editor and the version history. This module and everything it imports (Tiptap, Yjs,
// y-websocket, y-indexeddb) is the lazily loaded editor chunk.

import { Editor } from "@tiptap/core";
import Collaboration from "@tiptap/extension-collaboration";
import CollaborationCaret from "@tiptap/extension-collaboration-caret";
import Image from "@tiptap/extension-image";
import { TaskItem, TaskList } from "@tiptap/extension-list";
import { TableKit } from "@tiptap/extension-table";
import StarterKit from "@tiptap/starter-kit";
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import { useHub } from "../hooks";
import type { DocDetail } from "./api";
import { docsApi } from "./api";
import { colorFor, DocSession, type CollabUser } from "./collab";
import "./docs.css";
import { useDocsT } from "./i18n";
import { mentionExtension } from "./mentions";
import { docPath, openDocPath } from "./route";
import { SharePanel } from "./Share";
import { VersionsPanel } from "./Versions";

function useSession(session: DocSession) {
  const status = useSyncExternalStore(session.subscribe, () => session.status);
  const notice = useSyncExternalStore(session.subscribe, () => session.notice);
  const ended = useSyncExternalStore(session.subscribe, () => session.ended);
  return { status, notice, ended };
}

/** People whose awareness state is live in the room, one entry per user (several tabs count once). */
function usePeople(session: DocSession): CollabUser[] {
  const [people, setPeople] = useState<CollabUser[]>([]);
  useEffect(() => {
    const awareness = session.provider.awareness;
    const update = () => {
      const byId = new Map<number, CollabUser>();
      for (const state of awareness.getStates().values()) {
        const user = (state as { user?: CollabUser }).user;
        if (user && typeof user.id === "number" && typeof user.name === "string") byId.set(user.id, user);
      }
      setPeople([...byId.values()].sort((a, b) => a.name.localeCompare(b.name)));
    };
    awareness.on("change", update);
    update();
    return () => awareness.off("change", update);
  }, [session]);
  return people;
}

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/** Any client can write any `src` into an image node of the shared Yjs document, so the editor
 * renders only this site's paths and http(s) images: a `javascript:` or `data:` source is
 * dropped here rather than left for the Content-Security-Policy to block. */
function safeImageSrc(src: unknown): string | null {
  if (typeof src !== "string") return null;
  // As a browser reads it: tabs/newlines vanish and "\" is "/" ("/\evil.test" is off-site).
  const seen = src.trim().replace(/[\t\n\r]/g, "").replace(/\\/g, "/");
  if (/^https?:\/\//i.test(seen)) return src;
  if (seen.startsWith("/") && !seen.startsWith("//")) return src;
  return null;
}

const SafeImage = Image.extend({
  addAttributes() {
    return {
      ...this.parent?.(),
      src: { default: null, renderHTML: (attributes) => ({ src: safeImageSrc(attributes.src) }) },
    };
  },
});

/** Upload images (from the picker, a paste or a drop) and insert them where the caret is. */
async function insertImages(editor: Editor, documentId: number, files: File[], onError: (message: string) => void) {
  for (const file of files.filter((f) => IMAGE_TYPES.includes(f.type))) {
    try {
      const image = await docsApi.uploadImage(documentId, file);
      editor.chain().focus().setImage({ src: image.url, alt: file.name }).run();
    } catch (error) {
      onError((error as Error).message);
    }
  }
}

function imagesOf(data: DataTransfer | null): File[] {
  return Array.from(data?.files ?? []).filter((f) => IMAGE_TYPES.includes(f.type));
}

function Toolbar({
  editor,
  disabled,
  onImages,
}: {
  editor: Editor;
  disabled: boolean;
  onImages: (files: File[]) => void;
}) {
  const t = useDocsT();
  const picker = useRef<HTMLInputElement>(null);
  const [, force] = useState(0);
  useEffect(() => {
    const rerender = () => force((n) => n + 1);
    editor.on("transaction", rerender);
    return () => {
      editor.off("transaction", rerender);
    };
  }, [editor]);
  const chain = () => editor.chain().focus();
  const buttons: { key: string; label: string; text: string; active: boolean; run: () => void }[] = [
    { key: "bold", label: t("bold"), text: "B", active: editor.isActive("bold"), run: () => chain().toggleBold().run() },
    { key: "italic", label: t("italic"), text: "I", active: editor.isActive("italic"), run: () => chain().toggleItalic().run() },
    { key: "strike", label: t("strike"), text: "S", active: editor.isActive("strike"), run: () => chain().toggleStrike().run() },
    {
      key: "h1",
      label: t("heading1"),
      text: "H1",
      active: editor.isActive("heading", { level: 1 }),
      run: () => chain().toggleHeading({ level: 1 }).run(),
    },
    {
      key: "h2",
      label: t("heading2"),
      text: "H2",
      active: editor.isActive("heading", { level: 2 }),
      run: () => chain().toggleHeading({ level: 2 }).run(),
    },
    {
      key: "bullet",
      label: t("bulletList"),
      text: "•",
      active: editor.isActive("bulletList"),
      run: () => chain().toggleBulletList().run(),
    },
    {
      key: "ordered",
      label: t("orderedList"),
      text: "1.",
      active: editor.isActive("orderedList"),
      run: () => chain().toggleOrderedList().run(),
    },
    { key: "task", label: t("taskList"), text: "☑", active: editor.isActive("taskList"), run: () => chain().toggleTaskList().run() },
    {
      key: "link",
      label: t("link"),
      text: "🔗",
      active: editor.isActive("link"),
      run: () => {
        if (editor.isActive("link")) {
          chain().unsetLink().run();
          return;
        }
        const href = window.prompt(t("linkPrompt"), "https://")?.trim();
        if (href && /^(https?:|mailto:|tel:|\/)/i.test(href)) chain().extendMarkRange("link").setLink({ href }).run();
      },
    },
    {
      key: "table",
      label: t("table"),
      text: "▦",
      active: editor.isActive("table"),
      run: () => chain().insertTable({ rows: 3, cols: 3, withHeaderRow: true }).run(),
    },
    { key: "image", label: t("image"), text: "🖼", active: false, run: () => picker.current?.click() },
    { key: "code", label: t("codeBlock"), text: "</>", active: editor.isActive("codeBlock"), run: () => chain().toggleCodeBlock().run() },
    { key: "quote", label: t("quote"), text: "❝", active: editor.isActive("blockquote"), run: () => chain().toggleBlockquote().run() },
    { key: "undo", label: t("undo"), text: "↶", active: false, run: () => chain().undo().run() },
    { key: "redo", label: t("redo"), text: "↷", active: false, run: () => chain().redo().run() },
  ];
  return (
    <div className="doc-toolbar" role="toolbar" aria-label="formatting">
      {buttons.map((b) => (
        <button
          key={b.key}
          type="button"
          title={b.label}
          aria-label={b.label}
          aria-pressed={b.active}
          className={b.active ? "active" : undefined}
          disabled={disabled}
          onMouseDown={(e) => e.preventDefault()}
          onClick={b.run}
        >
          {b.text}
        </button>
      ))}
      <input
        ref={picker}
        type="file"
        hidden
        multiple
        accept={IMAGE_TYPES.join(",")}
        data-testid="doc-image-input"
        onChange={(e) => {
          onImages(Array.from(e.target.files ?? []));
          e.target.value = "";
        }}
      />
    </div>
  );
}

/** The title is the server's (PATCH /documents/{id}); a rename is also written into the Y.Doc's
 *  "meta" map, which is not part of the content, only so that open editors see it at once. */
function TitleField({ doc, canEdit, session }: { doc: DocDetail; canEdit: boolean; session: DocSession }) {
  const t = useDocsT();
  const [title, setTitle] = useState(doc.title);
  const [saved, setSaved] = useState(doc.title);
  useEffect(() => {
    const meta = session.ydoc.getMap<string>("meta");
    const onChange = () => {
      const live = meta.get("title");
      // Only a rename newer than what the server told us on load: a rename made through the
      // API alone (no editor) is not in the map, and an older map entry must not win over it.
      const at = meta.get("renamedAt");
      if (typeof live === "string" && live && typeof at === "string" && Date.parse(at) > Date.parse(doc.updated_at)) {
        setSaved(live);
        setTitle(live);
      }
    };
    meta.observe(onChange);
    return () => meta.unobserve(onChange);
  }, [session, doc.updated_at]);
  const save = async () => {
    const next = title.trim();
    if (!next || next === saved) {
      setTitle(saved);
      return;
    }
    try {
      const updated = await docsApi.rename(doc.id, next);
      setSaved(updated.title);
      setTitle(updated.title);
      session.ydoc.transact(() => {
        const meta = session.ydoc.getMap<string>("meta");
        meta.set("title", updated.title);
        meta.set("renamedAt", updated.updated_at);
      });
    } catch {
      setTitle(saved);
    }
  };
  if (!canEdit) return <h2 className="doc-title-text">{saved}</h2>;
  return (
    <input
      className="doc-title-input"
      aria-label={t("rename")}
      value={title}
      maxLength={200}
      onChange={(e) => setTitle(e.target.value)}
      onBlur={() => void save()}
      onKeyDown={(e) => {
        if (e.key === "Enter") (e.target as HTMLInputElement).blur();
        if (e.key === "Escape") setTitle(saved);
      }}
    />
  );
}

export default function DocEditorPage({ workspaceId, doc }: { workspaceId: number; doc: DocDetail }) {
  // One Yjs session per mounted page (created in an effect so that a double mount in React's
  // strict mode destroys its own session instead of a shared one).
  const [session, setSession] = useState<DocSession | null>(null);
  useEffect(() => {
    const created = new DocSession(doc.id, doc.epoch);
    setSession(created);
    return () => created.destroy();
  }, [doc.id, doc.epoch]);
  if (session === null) return null;
  return <DocEditor key={session.ydoc.guid} workspaceId={workspaceId} doc={doc} session={session} />;
}

function DocEditor({ workspaceId, doc, session }: { workspaceId: number; doc: DocDetail; session: DocSession }) {
  const t = useDocsT();
  const me = useHub((s) => s.me);
  const { status, notice, ended } = useSession(session);
  const people = usePeople(session);
  const mount = useRef<HTMLDivElement>(null);
  const [editor, setEditor] = useState<Editor | null>(null);
  const [panel, setPanel] = useState<"versions" | "share" | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const canEdit = (doc.role === "edit" || doc.role === "owner") && notice === null;

  useEffect(() => {
    if (!mount.current) return;
    const user: CollabUser = { id: me.id, name: me.display_name || me.email.split("@")[0], color: colorFor(me.id) };
    const instance = new Editor({
      element: mount.current,
      editable: doc.role === "edit" || doc.role === "owner",
      extensions: [
        // The history lives in Yjs (Collaboration's undo manager): only your own edits undo.
        StarterKit.configure({ undoRedo: false, link: { openOnClick: false, autolink: true } }),
        TaskList,
        TaskItem.configure({ nested: true }),
        TableKit.configure({ table: { resizable: false } }),
        SafeImage.configure({ allowBase64: false }),
        Collaboration.configure({ document: session.ydoc, field: "default" }),
        CollaborationCaret.configure({ provider: session.provider, user }),
        mentionExtension(doc.id, t("noMatches")),
      ],
      editorProps: {
        attributes: { class: "doc-content", "aria-label": doc.title, "data-testid": "doc-editor" },
        // Pasted or dropped images are uploaded like attachments, never inlined as data: URLs.
        handlePaste: (_view, event) => {
          const files = imagesOf(event.clipboardData);
          if (!files.length) return false;
          void insertImages(instance, doc.id, files, setUploadError);
          return true;
        },
        handleDrop: (_view, event) => {
          const files = imagesOf((event as DragEvent).dataTransfer);
          if (!files.length) return false;
          void insertImages(instance, doc.id, files, setUploadError);
          return true;
        },
      },
    });
    setEditor(instance);
    return () => {
      instance.destroy();
      setEditor(null);
    };
    // The editor lives as long as the page; language or title changes do not rebuild it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session]);

  useEffect(() => {
    editor?.setEditable(canEdit && ended === null);
  }, [editor, canEdit, ended]);

  useEffect(() => {
    // Restored meanwhile: the server closed with 4409; reload with the new epoch.
    if (ended === "reload") {
      const timer = setTimeout(() => window.location.reload(), 1200);
      return () => clearTimeout(timer);
    }
  }, [ended]);

  const statusText =
    status === "saved"
      ? t("statusSaved")
      : status === "saving"
        ? t("statusSyncing")
        : status === "offline"
          ? t("statusOffline")
          : t("statusConnecting");

  return (
    <section className="doc-page" aria-label={doc.title}>
      <header className="doc-head">
        <a
          className="doc-back"
          href={docPath(workspaceId, null)}
          onClick={(e) => {
            e.preventDefault();
            openDocPath(docPath(workspaceId, null));
          }}
        >
          ← {t("backToList")}
        </a>
        <TitleField doc={doc} canEdit={doc.role === "edit" || doc.role === "owner"} session={session} />
        <span className={`doc-status doc-status-${status}`} data-testid="doc-status" data-status={status} role="status">
          {statusText}
        </span>
        <ul className="doc-people" aria-label={t("here")} data-testid="doc-people">
          {people.map((p) => (
            <li key={p.id} title={p.name} style={{ background: p.color }} data-user-id={p.id}>
              {p.name.slice(0, 1).toUpperCase()}
            </li>
          ))}
        </ul>
        <span className="doc-export" aria-label={t("exportLabel")}>
          {t("exportLabel")}:{" "}
          <a href={`/api/v1/documents/${doc.id}/export?format=markdown`} download>
            {t("exportMarkdown")}
          </a>{" "}
          <a href={`/api/v1/documents/${doc.id}/export?format=html`} download>
            {t("exportHtml")}
          </a>
        </span>
        {doc.role === "owner" && (
          <button type="button" className="doc-versions-toggle" onClick={() => setPanel((p) => (p === "share" ? null : "share"))}>
            {t("share")}
          </button>
        )}
        <button type="button" className="doc-versions-toggle" onClick={() => setPanel((p) => (p === "versions" ? null : "versions"))}>
          {t("versions")}
        </button>
      </header>
      {notice && <div className="doc-notice" role="status">{notice === "read_only" ? t("readOnly") : t("editorLimit")}</div>}
      {ended && (
        <div className="doc-notice" role="alert">
          {ended === "reload" ? t("reloadNeeded") : ended === "not_found" ? t("notFound") : t("accessEnded")}
        </div>
      )}
      {uploadError && (
        <div className="doc-notice" role="alert" onClick={() => setUploadError(null)}>
          {uploadError}
        </div>
      )}
      {editor && (
        <Toolbar
          editor={editor}
          disabled={!canEdit || ended !== null}
          onImages={(files) => void insertImages(editor, doc.id, files, setUploadError)}
        />
      )}
      <div className="doc-body">
        <div className="doc-editor" ref={mount} />
        {panel === "versions" && (
          <VersionsPanel documentId={doc.id} canRestore={canEdit} onClose={() => setPanel(null)} />
        )}
        {panel === "share" && <SharePanel doc={doc} onClose={() => setPanel(null)} />}
      </div>
    </section>
  );
}
