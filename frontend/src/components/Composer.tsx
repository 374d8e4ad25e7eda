// The message composer, used by the conversation and by the thread panel: text with @
// autocomplete (IME safe), files from the picker, drag-and-drop (the conversation passes
// drops in through `addFiles`) and clipboard pastes, each uploading with its own progress bar
// and cancel; the message goes out with the uploaded ids once every file is in.

import { useEffect, useImperativeHandle, useLayoutEffect, useRef, useState, type KeyboardEvent, type Ref } from "react";
import type { MentionCandidate } from "../client";
import { insertMention, mentionQuery } from "../format";
import { useClient, useHub, useT } from "../hooks";
import { useSlashCommands } from "../crm/SlashCommands";
import { ALLOWED_EXTENSIONS, MAX_FILES, formatSize, isImageName, pastedName, uploadFile, type Upload } from "./uploads";

export interface ComposerHandle {
  addFiles: (files: File[]) => void;
  focus: () => void;
}

let uploadCounter = 0;

export function Composer({
  id,
  name,
  threadRootId = null,
  handle,
}: {
  id: number;
  name: string;
  threadRootId?: number | null;
  handle?: Ref<ComposerHandle>;
}) {
  const client = useClient();
  const t = useT();
  const lang = useHub((s) => s.lang);
  const [text, setText] = useState("");
  const composing = useRef(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const [mention, setMention] = useState<{ start: number; query: string } | null>(null);
  const [candidates, setCandidates] = useState<MentionCandidate[]>([]);
  const [selected, setSelected] = useState(0);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const cancels = useRef(new Map<string, () => void>());
  const listId = `mentions-${id}-${threadRootId ?? "main"}`;
  const needle = mention?.query.toLowerCase() ?? "";
  const options = mention
    ? candidates
        .filter((c) => !needle || c.name.toLowerCase().includes(needle) || c.handle.toLowerCase().includes(needle))
        .slice(0, 8)
    : [];
  const open = options.length > 0;
  const slash = useSlashCommands({ conversationId: id, threadRootId, text, setText, lang });

  const patchUpload = (key: string, patch: Partial<Upload>) =>
    setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u)));

  const addFiles = (files: File[]) => {
    const room = MAX_FILES - uploads.length;
    for (const file of files.slice(0, Math.max(0, room))) {
      const key = `u${++uploadCounter}`;
      // Pasted screenshots all arrive as "image.png": give each a distinct name.
      const fileName = file.name && file.name !== "image.png" ? file.name : pastedName(file.type);
      const preview = file.type.startsWith("image/") ? URL.createObjectURL(file) : undefined;
      const upload: Upload = { key, name: fileName, size: file.size, progress: 0, state: "uploading", preview };
      setUploads((list) => [...list, upload]);
      const started = uploadFile(id, file, fileName, (progress) => patchUpload(key, { progress }), t("uploadFailed"));
      cancels.current.set(key, started.cancel);
      started.promise.then(
        (attachment) => patchUpload(key, { state: "done", attachment, progress: 1 }),
        (err: Error) => {
          if (err.message === "cancelled") return;
          patchUpload(key, { state: "failed", error: err.message });
        },
      );
    }
  };

  const removeUpload = (key: string) => {
    cancels.current.get(key)?.();
    cancels.current.delete(key);
    setUploads((list) => {
      const gone = list.find((u) => u.key === key);
      if (gone?.preview) URL.revokeObjectURL(gone.preview);
      return list.filter((u) => u.key !== key);
    });
  };

  useImperativeHandle(handle, () => ({ addFiles, focus: () => box.current?.focus() }));
  // Cancel what is still uploading when the composer goes away (conversation switched).
  useEffect(() => {
    const pending = cancels.current;
    return () => {
      for (const cancel of pending.values()) cancel();
    };
  }, []);

  const track = (value: string, caret: number) => {
    const found = mentionQuery(value, caret);
    setMention(found);
    setSelected(0);
    if (found && !candidates.length) {
      client
        .mentionCandidates(id)
        .then(setCandidates)
        .catch(() => undefined);
    }
  };
  const choose = (candidate: MentionCandidate) => {
    const el = box.current;
    if (!mention || !el) return;
    const next = insertMention(text, mention.start, el.selectionStart ?? text.length, candidate.handle);
    caretAfterRender.current = next.caret;
    setText(next.text);
    setMention(null);
  };
  // Place the caret in the same commit as the new text: a later callback (rAF) would race a
  // fast typist and move the caret back into what they have typed since.
  const caretAfterRender = useRef<number | null>(null);
  useLayoutEffect(() => {
    const el = box.current;
    if (el && caretAfterRender.current !== null) {
      el.focus();
      el.setSelectionRange(caretAfterRender.current, caretAfterRender.current);
      caretAfterRender.current = null;
    }
  }, [text]);

  const uploading = uploads.some((u) => u.state === "uploading");
  const ready = uploads.filter((u) => u.state === "done" && u.attachment);
  const canSend = !uploading && (text.trim().length > 0 || ready.length > 0);
  const submit = () => {
    if (!canSend) return;
    if (!ready.length && slash.submit(text)) {
      setText(""); // a slash command runs instead of being sent as a message
      return;
    }
    client.send(id, text, { threadRootId, attachments: ready.map((u) => u.attachment!) });
    if (!threadRootId) {
      client.atBottom = true;
      // Sent from inside a jump window: go to the live end, where the message will be.
      if (client.state.convs[id]?.hasMoreAfter) void client.jumpToLatest(id).catch(() => undefined);
    }
    setText("");
    setMention(null);
    for (const u of uploads) if (u.preview) URL.revokeObjectURL(u.preview);
    // Failed ones stay with their error until removed; sent ones go.
    setUploads((list) => list.filter((u) => u.state === "failed"));
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // While a Chinese IME composition is open, keys belong to the IME (isComposing, and
    // keyCode 229 for older Safari): Enter confirms the candidate, it must not send.
    if (composing.current || e.nativeEvent.isComposing || e.keyCode === 229) return;
    if (slash.onKeyDown(e)) return;
    if (open) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const step = e.key === "ArrowDown" ? 1 : options.length - 1;
        setSelected((selected + step) % options.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        choose(options[Math.min(selected, options.length - 1)]);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setMention(null);
        return;
      }
    }
    // Enter sends; Shift+Enter is a new line.
    if (e.key !== "Enter" || e.shiftKey) return;
    e.preventDefault();
    submit();
  };
  return (
    <form
      className={`composer${threadRootId ? " in-thread" : ""}`}
      data-testid={threadRootId ? "thread-composer" : "composer"}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {slash.replies}
      {slash.popup}
      {open && (
        <ul className="mentions" role="listbox" aria-label="@" id={listId}>
          {options.map((c, i) => (
            <li
              key={c.user_id}
              role="option"
              aria-selected={i === selected}
              className={i === selected ? "selected" : undefined}
              onMouseDown={(e) => {
                e.preventDefault(); // keep the focus in the composer
                choose(c);
              }}
            >
              <span className="name">{c.name}</span> <span className="handle">@{c.handle}</span>
              {c.is_external && (
                <span className="tag guest" data-testid="guest-badge">
                  {t("external")}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      {uploads.length > 0 && (
        <ul className="uploads" aria-label={t("attachments")}>
          {uploads.map((u) => (
            <li key={u.key} className={`upload ${u.state}`} data-testid="upload">
              {u.preview && isImageName(u.name) ? (
                <img className="upload-preview" src={u.preview} alt="" />
              ) : (
                <span className="file-icon" aria-hidden="true">
                  📄
                </span>
              )}
              <span className="upload-text">
                <span className="file-name">{u.name}</span>
                <span className="file-size">{formatSize(u.size)}</span>
                {u.state === "uploading" && (
                  <progress
                    max={1}
                    value={u.progress}
                    aria-label={t("uploading", { name: u.name })}
                    data-testid="upload-progress"
                  />
                )}
                {u.state === "failed" && (
                  <span className="form-error inline" role="alert" data-testid="upload-error">
                    {u.error}
                  </span>
                )}
              </span>
              <button
                type="button"
                className="remove"
                aria-label={u.state === "uploading" ? t("cancelUpload", { name: u.name }) : t("removeFile", { name: u.name })}
                onClick={() => removeUpload(u.key)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="composer-row">
        <button type="button" className="attach" aria-label={t("attachFiles")} title={t("attachFiles")} onClick={() => picker.current?.click()}>
          📎
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          accept={ALLOWED_EXTENSIONS.map((e) => `.${e}`).join(",")}
          onChange={(e) => {
            addFiles(Array.from(e.target.files ?? []));
            e.target.value = "";
          }}
        />
        <textarea
          ref={box}
          aria-label={threadRootId ? t("replyLabel") : t("composerLabel")}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-expanded={open}
          placeholder={threadRootId ? t("replyPlaceholder") : t("composerPlaceholder", { name })}
          value={text}
          rows={1}
          lang={lang}
          onChange={(e) => {
            setText(e.target.value);
            track(e.target.value, e.target.selectionStart ?? e.target.value.length);
            if (e.target.value.trim()) client.notifyTyping(id);
          }}
          onKeyDown={onKeyDown}
          onPaste={(e) => {
            const files = Array.from(e.clipboardData?.files ?? []);
            // A pasted screenshot is a file; pasted text (even with an image alongside, as
            // office apps put both on the clipboard) stays text.
            if (!files.length || e.clipboardData.getData("text/plain")) return;
            e.preventDefault();
            addFiles(files);
          }}
          onCompositionStart={() => (composing.current = true)}
          onCompositionEnd={() => (composing.current = false)}
          onBlur={() => setMention(null)}
        />
        <button type="submit" className="send" disabled={!canSend}>
          {t("send")}
        </button>
      </div>
    </form>
  );
}
