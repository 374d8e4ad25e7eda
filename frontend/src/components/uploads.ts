// Uploads from the composer: files picked, dropped or pasted go to
// `POST /conversations/{id}/attachments` one XMLHttpRequest each (fetch has no upload
// progress), and the message is sent with the returned ids once every file is in.

import { readCookie } from "../api";
import type { Attachment } from "../types";

/** The server's allow-list (docs/messaging-http.md, "Attachments"); checked there again. */
export const ALLOWED_EXTENSIONS = [
  "png", "jpg", "jpeg", "gif", "webp", "pdf", "txt", "csv", "docx", "xlsx", "pptx", "doc", "xls", "zip",
];
export const MAX_FILES = 10;

export interface Upload {
  key: string;
  name: string;
  size: number;
  /** 0..1 while sending. */
  progress: number;
  state: "uploading" | "done" | "failed";
  error?: string;
  attachment?: Attachment;
  /** A local object URL for an image preview while it uploads. */
  preview?: string;
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
}

export function isImageName(name: string): boolean {
  return ["png", "jpg", "jpeg", "gif", "webp"].includes(extensionOf(name));
}

/** 1023 B, 1.5 KB, 12 MB — binary units, one decimal below 10. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * A name for a pasted image: clipboards hand out "image.png" for every screenshot, which
 * would make several pastes indistinguishable in the message.
 */
export function pastedName(type: string, now: Date = new Date()): string {
  const ext = type === "image/jpeg" ? "jpg" : type.startsWith("image/") ? type.slice(6).replace("svg+xml", "svg") : "bin";
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `pasted-${stamp}.${ext}`;
}

/** The server's error message from an upload response (`{"error": {"code", "message"}}`). */
export function uploadError(status: number, responseText: string, fallback: string): string {
  try {
    const data = JSON.parse(responseText) as { error?: { message?: string } };
    if (data?.error?.message) return data.error.message;
  } catch {
    // not JSON (a proxy's error page): say what the status means
  }
  return status ? `${fallback} (HTTP ${status})` : fallback;
}

export interface UploadHandle {
  promise: Promise<Attachment>;
  cancel: () => void;
}

/** Send one file with progress callbacks; `cancel` aborts (the promise rejects "cancelled"). */
export function uploadFile(
  conversationId: number,
  file: File,
  name: string,
  onProgress: (fraction: number) => void,
  failedText: string,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<Attachment>((resolve, reject) => {
    xhr.open("POST", `/api/v1/conversations/${conversationId}/attachments`);
    xhr.setRequestHeader("X-CSRFToken", readCookie("csrftoken"));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status === 201 || xhr.status === 200) {
        onProgress(1);
        resolve(JSON.parse(xhr.responseText) as Attachment);
      } else reject(new Error(uploadError(xhr.status, xhr.responseText, failedText)));
    };
    xhr.onerror = () => reject(new Error(failedText));
    xhr.onabort = () => reject(new Error("cancelled"));
    const form = new FormData();
    // The third argument sets the multipart filename (Chinese names are sent as UTF-8).
    form.append("file", file, name);
    xhr.send(form);
  });
  return { promise, cancel: () => xhr.abort() };
}
