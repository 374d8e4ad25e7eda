import { createContext, useCallback, useContext, useSyncExternalStore } from "react";
import type { AppState, HubClient } from "./client";
import { translate, type MessageKey } from "./i18n";

export const ClientContext = createContext<HubClient | null>(null);

export function useClient(): HubClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("HubClient missing");
  return client;
}

export function useHub<T>(select: (state: AppState) => T): T {
  const client = useClient();
  return useSyncExternalStore(client.subscribe, () => select(client.getState()));
}

export function useT(): (key: MessageKey, vars?: Record<string, string | number>) => string {
  const lang = useHub((s) => s.lang);
  return useCallback((key, vars) => translate(lang, key, vars), [lang]);
}
