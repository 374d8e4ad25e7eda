import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { api } from "./api";
import { App } from "./App";
import { HubClient } from "./client";
import { ClientContext } from "./hooks";
import { loadLang } from "./i18n";
import type { Me } from "./types";
import "./styles.css";

declare global {
  interface Window {
    /** The running client, for debugging from the console and for the browser tests. */
    __hub?: HubClient;
  }
}

function bootstrapMe(): Me | null {
  // The Django page embeds /api/v1/me (json_script) so the first paint needs no round trip.
  const node = document.getElementById("hub-me");
  if (!node?.textContent) return null;
  try {
    return JSON.parse(node.textContent) as Me;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const me = bootstrapMe() ?? (await api.me());
  const lang = loadLang();
  document.documentElement.lang = lang;
  const client = new HubClient(me, lang);
  window.__hub = client;
  client.start();
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <ClientContext.Provider value={client}>
        <App />
      </ClientContext.Provider>
    </StrictMode>,
  );
  if ("serviceWorker" in navigator && document.body.dataset.serviceWorker !== "off") {
    // Scope "/" (the server sends Service-Worker-Allowed); it caches the shell for offline starts.
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => undefined);
  }
}

void main();
