// Slash commands in the composer: autocomplete of command names and of their arguments
// (from the server, which asks the ERP), running the command instead of sending a message,
// and ephemeral replies shown inline — "only visible to you" — until dismissed.

import { type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from "react";
import { newClientId } from "../client";
import type { Lang } from "../i18n";
import { translate } from "../i18n";
import { type CommandResult, crmApi, type Suggestion } from "./api";
import { completeArgument, parseCommand } from "./cardLogic";
import { onCommandReply } from "./lateReplies";
import { BlockList } from "./MessageBlocks";

interface Reply {
  key: string;
  command: string;
  result?: CommandResult;
  error?: string;
}

export interface SlashCommands {
  /** Key handling for the composer; true when the key was used here. */
  onKeyDown: (e: KeyboardEvent<HTMLTextAreaElement>) => boolean;
  /** Run `text` as a command when it is one; true when it was (do not send it as a message). */
  submit: (text: string) => boolean;
  popup: ReactNode;
  replies: ReactNode;
  open: boolean;
}

export function useSlashCommands(opts: {
  conversationId: number;
  threadRootId: number | null;
  text: string;
  setText: (text: string) => void;
  lang: Lang;
}): SlashCommands {
  const { conversationId, threadRootId, text, setText, lang } = opts;
  const t = (key: Parameters<typeof translate>[1], vars?: Record<string, string | number>) => translate(lang, key, vars);
  const [suggestions, setSuggestions] = useState<Suggestion[]>([]);
  const [selected, setSelected] = useState(0);
  const [navigated, setNavigated] = useState(false);
  const [dismissedFor, setDismissedFor] = useState<string | null>(null);
  const [replies, setReplies] = useState<Reply[]>([]);
  const asked = useRef(0);
  const typing = text.startsWith("/") && !text.includes("\n");

  useEffect(() => {
    if (!typing) {
      setSuggestions([]);
      return;
    }
    const ticket = ++asked.current;
    const timer = window.setTimeout(() => {
      crmApi.suggest(conversationId, text).then(
        (page) => {
          if (ticket !== asked.current) return; // an answer to an older prefix
          setSuggestions(page.suggestions);
          setSelected(0);
          setNavigated(false);
        },
        () => ticket === asked.current && setSuggestions([]),
      );
    }, 120);
    return () => window.clearTimeout(timer);
  }, [conversationId, text, typing]);

  // Late replies of external commands (command.reply frames) join the same list. Only the
  // conversation's main composer takes them, so a reply does not show twice beside a thread.
  useEffect(() => {
    if (threadRootId !== null) return;
    return onCommandReply(conversationId, (late) => {
      const command = `/${late.command}`;
      const result: CommandResult = { command, visibility: "ephemeral", text: late.text, html: late.html, blocks: late.blocks, message: null };
      setReplies((list) => [...list.slice(-2), { key: newClientId(), command, result }]);
    });
  }, [conversationId, threadRootId]);

  const open = typing && suggestions.length > 0 && dismissedFor !== text;
  const choose = (suggestion: Suggestion) => {
    setText(completeArgument(text, suggestion.value));
    setSuggestions([]);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): boolean => {
    if (!open) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : suggestions.length - 1;
      setSelected((selected + step) % suggestions.length);
      setNavigated(true);
      return true;
    }
    // Tab always completes; Enter completes a command name, or a suggestion picked with the
    // arrows — otherwise Enter runs what is typed.
    const completingName = !text.includes(" ");
    if (e.key === "Tab" || (e.key === "Enter" && !e.shiftKey && (navigated || completingName))) {
      e.preventDefault();
      choose(suggestions[Math.min(selected, suggestions.length - 1)]);
      return true;
    }
    if (e.key === "Escape") {
      e.preventDefault();
      setDismissedFor(text);
      return true;
    }
    return false;
  };

  const submit = (value: string): boolean => {
    const parsed = parseCommand(value);
    if (!parsed) return false;
    const key = newClientId();
    const command = value.trim();
    setReplies((list) => [...list.slice(-2), { key, command }]);
    setSuggestions([]);
    crmApi.runCommand(conversationId, command, key, threadRootId).then(
      (result) =>
        setReplies((list) =>
          // An in-channel reply arrives as a message for everyone: nothing to keep here.
          result.visibility === "in_channel"
            ? list.filter((r) => r.key !== key)
            : list.map((r) => (r.key === key ? { ...r, result } : r)),
        ),
      (err: Error) => setReplies((list) => list.map((r) => (r.key === key ? { ...r, error: err.message } : r))),
    );
    return true;
  };

  const popup = open ? (
    <ul className="mentions slash-suggestions" role="listbox" aria-label="/" data-testid="slash-suggestions">
      {suggestions.map((s, i) => (
        <li
          key={`${s.value}-${i}`}
          role="option"
          aria-selected={i === selected}
          className={i === selected ? "selected" : undefined}
          onMouseDown={(e) => {
            e.preventDefault(); // keep the focus in the composer
            choose(s);
          }}
        >
          <span className="name">{s.label}</span>
          {s.detail && <span className="handle"> {s.detail}</span>}
        </li>
      ))}
    </ul>
  ) : null;

  const replyList = replies.length ? (
    <div className="ephemeral-replies">
      {replies.map((reply) => (
        <section key={reply.key} className="ephemeral" data-testid="ephemeral-reply" aria-live="polite">
          <header>
            <span className="only-you">{t("onlyVisibleToYou")}</span>
            <code>{reply.command}</code>
            <button
              type="button"
              className="link"
              aria-label={t("dismiss")}
              onClick={() => setReplies((list) => list.filter((r) => r.key !== reply.key))}
            >
              ×
            </button>
          </header>
          {!reply.result && !reply.error && <div className="muted-text">{t("loading")}</div>}
          {reply.error && (
            <div className="form-error inline" role="alert">
              {reply.error}
            </div>
          )}
          {reply.result && (
            <>
              {reply.result.html && !reply.result.blocks.length && (
                // Rendered from Markdown and sanitised on the server.
                <div className="body" dangerouslySetInnerHTML={{ __html: reply.result.html }} />
              )}
              <BlockList blocks={reply.result.blocks} messageId={null} lang={lang} />
            </>
          )}
        </section>
      ))}
    </div>
  ) : null;

  return { onKeyDown, submit, popup, replies: replyList, open };
}
