// Web Push in the browser: subscribe this device with the server's VAPID key, keep the server
// in step with the browser's subscription, unsubscribe. The service worker (sw.template.js)
// shows what arrives.

import { notifyApi } from "./api";

/** applicationServerKey wants bytes; the server gives base64url without padding. */
export function base64UrlToBytes(value: string): Uint8Array<ArrayBuffer> {
  const base64 = (value + "=".repeat((4 - (value.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

export type PushState = "unsupported" | "denied" | "off" | "on";

export function pushSupported(): boolean {
  return typeof window !== "undefined" && "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

async function registration(): Promise<ServiceWorkerRegistration | null> {
  if (!pushSupported()) return null;
  return (await navigator.serviceWorker.getRegistration("/")) ?? null;
}

export async function pushState(): Promise<PushState> {
  if (!pushSupported()) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  const reg = await registration();
  const sub = reg ? await reg.pushManager.getSubscription() : null;
  return sub ? "on" : "off";
}

export async function enablePush(): Promise<PushState> {
  if (!pushSupported()) return "unsupported";
  if ((await Notification.requestPermission()) !== "granted") return "denied";
  const reg = (await registration()) ?? (await navigator.serviceWorker.register("/sw.js", { scope: "/" }));
  await navigator.serviceWorker.ready;
  const { vapid_public_key } = await notifyApi.push();
  const key = base64UrlToBytes(vapid_public_key);
  let sub = await reg.pushManager.getSubscription();
  if (sub && !sameKey(sub, key)) {
    await sub.unsubscribe(); // made for another server key: useless now
    sub = null;
  }
  sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  await notifyApi.subscribe(sub.toJSON());
  return "on";
}

function sameKey(sub: PushSubscription, key: Uint8Array): boolean {
  const current = sub.options?.applicationServerKey;
  if (!current) return true; // the browser does not say: assume it is ours
  const bytes = new Uint8Array(current);
  return bytes.length === key.length && bytes.every((b, i) => b === key[i]);
}

export async function disablePush(): Promise<PushState> {
  const reg = await registration();
  const sub = reg ? await reg.pushManager.getSubscription() : null;
  if (sub) {
    await notifyApi.unsubscribe(sub.endpoint).catch(() => undefined);
    await sub.unsubscribe();
  }
  return pushSupported() ? "off" : "unsupported";
}

/** On start: if this browser is subscribed, make sure the server still has it (it drops
 * subscriptions the push service reports as gone; a browser may have renewed its own), and
 * subscribe again if the server's key changed (a subscription is bound to the key). */
export async function syncPush(): Promise<void> {
  if (!pushSupported() || Notification.permission !== "granted") return;
  const reg = await registration();
  let sub = reg ? await reg.pushManager.getSubscription() : null;
  if (!reg || !sub) return;
  try {
    const key = base64UrlToBytes((await notifyApi.push()).vapid_public_key);
    if (!sameKey(sub, key)) {
      await sub.unsubscribe();
      sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    }
    await notifyApi.subscribe(sub.toJSON());
  } catch {
    // Offline or the push service unreachable: the next start tries again.
  }
}
