// `@` in a document: Tiptap's Mention node (attrs id = user id, label = name) with a small
// suggestion popup of the workspace members who may read the document. The server notifies
// the people mentioned once the edit is persisted (docs_collab/actions.do_notify_mentions).

import Mention from "@tiptap/extension-mention";
import type { SuggestionKeyDownProps, SuggestionProps } from "@tiptap/suggestion";
import { docsApi } from "./api";

interface Item {
  id: string;
  label: string;
}

function popup(noMatches: string) {
  let root: HTMLDivElement | null = null;
  let items: Item[] = [];
  let selected = 0;
  let command: ((item: Item) => void) | null = null;

  const draw = () => {
    if (!root) return;
    root.replaceChildren();
    if (!items.length) {
      const empty = document.createElement("div");
      empty.className = "hint";
      empty.textContent = noMatches;
      root.append(empty);
      return;
    }
    items.forEach((item, index) => {
      const option = document.createElement("button");
      option.type = "button";
      option.role = "option";
      option.className = index === selected ? "mention-option active" : "mention-option";
      option.setAttribute("aria-selected", String(index === selected));
      option.textContent = item.label;
      // mousedown, not click: a click would blur the editor and end the suggestion first.
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        command?.(item);
      });
      root!.append(option);
    });
  };

  const place = (props: SuggestionProps<Item>) => {
    const rect = props.clientRect?.();
    if (!root || !rect) return;
    root.style.left = `${rect.left + window.scrollX}px`;
    root.style.top = `${rect.bottom + window.scrollY + 4}px`;
  };

  return {
    onStart(props: SuggestionProps<Item>) {
      root = document.createElement("div");
      root.className = "mention-popup";
      root.role = "listbox";
      root.dataset.testid = "mention-popup";
      document.body.append(root);
      items = props.items;
      selected = 0;
      command = props.command;
      draw();
      place(props);
    },
    onUpdate(props: SuggestionProps<Item>) {
      items = props.items;
      selected = Math.min(selected, Math.max(0, items.length - 1));
      command = props.command;
      draw();
      place(props);
    },
    onKeyDown({ event }: SuggestionKeyDownProps) {
      if (!items.length) return false;
      if (event.key === "ArrowDown") selected = (selected + 1) % items.length;
      else if (event.key === "ArrowUp") selected = (selected + items.length - 1) % items.length;
      else if (event.key === "Enter" || event.key === "Tab") {
        command?.(items[selected]);
        return true;
      } else return false;
      draw();
      return true;
    },
    onExit() {
      root?.remove();
      root = null;
    },
  };
}

export function mentionExtension(documentId: number, noMatches: string) {
  return Mention.configure({
    HTMLAttributes: { class: "mention" },
    suggestion: {
      char: "@",
      items: async ({ query }: { query: string }): Promise<Item[]> => {
        try {
          const people = await docsApi.mentionable(documentId, query);
          return people.map((p) => ({ id: String(p.user_id), label: p.name }));
        } catch {
          return []; // offline: no suggestions, typing goes on
        }
      },
      render: () => popup(noMatches),
    },
  });
}
