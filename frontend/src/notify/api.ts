// /api/v1/me/notify/… and the push preview in /api/v1/me/notifications (docs/notifications.md).

import { apiRequest } from "../api";

export type TargetKind = "wecom" | "dingtalk" | "feishu" | "email" | "apprise";
export type Preview = "none" | "sender" | "first_line";

export interface Target {
  id: number;
  kind: TargetKind;
  label: string;
  masked: string;
  has_secret: boolean;
  enabled: boolean;
  created_at: string;
  last_success_at: string | null;
  last_error: string;
  failure_count: number;
}

export interface PushSubscriptionInfo {
  id: number;
  host: string;
  user_agent: string;
  created_at: string;
  last_success_at: string | null;
  last_error: string;
}

export interface Trial {
  id: number;
  ok: boolean;
  detail: string;
}

// One helper for every module (../api.ts): the same headers, errors and sign-in redirect.
const call = apiRequest;

export const notifyApi = {
  prefs: () => call<{ push_preview: Preview }>("GET", "/me/notifications"),
  setPreview: (push_preview: Preview) => call<{ push_preview: Preview }>("PATCH", "/me/notifications", { push_preview }),
  push: () => call<{ vapid_public_key: string; subscriptions: PushSubscriptionInfo[] }>("GET", "/me/notify/push"),
  subscribe: (subscription: PushSubscriptionJSON) =>
    call<PushSubscriptionInfo>("POST", "/me/notify/push/subscriptions", {
      ...subscription,
      user_agent: navigator.userAgent.slice(0, 400),
    }),
  unsubscribe: (endpoint: string) => call<void>("POST", "/me/notify/push/unsubscribe", { endpoint }),
  removeSubscription: (id: number) => call<void>("DELETE", `/me/notify/push/subscriptions/${id}`),
  testPush: () => call<{ results: Trial[] }>("POST", "/me/notify/push/test"),
  targets: () => call<Target[]>("GET", "/me/notify/targets"),
  addTarget: (body: { kind: TargetKind; label: string; url: string; secret: string }) =>
    call<Target>("POST", "/me/notify/targets", body),
  updateTarget: (id: number, body: Partial<{ label: string; enabled: boolean; url: string; secret: string }>) =>
    call<Target>("PATCH", `/me/notify/targets/${id}`, body),
  removeTarget: (id: number) => call<void>("DELETE", `/me/notify/targets/${id}`),
  testTarget: (id: number) => call<Trial>("POST", `/me/notify/targets/${id}/test`),
};
