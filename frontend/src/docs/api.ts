// HTTP calls of collaborative documents (docs/documents.md). Shares the request helper's
// conventions (session cookie, CSRF header, {"error": {code, message}}) with ../api.ts.

import { apiRequest } from "../api";

export interface DocSummary {
  id: number;
  title: string;
  workspace_id: number;
  conversation_id: number | null;
  default_access: string;
  created_by_id: number | null;
  last_editor_id: number | null;
  epoch: number;
  created_at: string;
  updated_at: string;
  role: "owner" | "edit" | "view" | null;
  socket_path: string;
}

export interface DocPermission {
  user_id: number;
  role: "owner" | "edit" | "view";
}

export interface DocDetail extends DocSummary {
  editing_now: number;
  permissions?: DocPermission[] | null;
  editors?: { user_id: number; name: string }[];
  last_editor?: { user_id: number; name: string } | null;
}

export interface DocVersion {
  id: number;
  name: string;
  kind: "named" | "auto" | "restore" | string;
  author_id: number | null;
  created_at: string;
  last_seq: number;
}

export interface DocVersionDetail extends DocVersion {
  markdown: string;
  html: string;
  text: string;
}

export interface DocSearchHit {
  id: number;
  title: string;
  conversation_id: number | null;
  updated_at: string;
  snippet: string;
}

// One helper for every module (../api.ts): the same headers, errors and sign-in redirect.
const call = apiRequest;

function upload<T>(path: string, file: File): Promise<T> {
  const form = new FormData();
  form.append("file", file);
  return apiRequest<T>("POST", path, form);
}

export const docsApi = {
  list: (workspaceId: number) => call<DocSummary[]>("GET", `/documents?workspace=${workspaceId}`),
  get: (id: number) => call<DocDetail>("GET", `/documents/${id}`),
  create: (body: { workspace_id: number; title: string; conversation_id?: number | null }) =>
    call<DocSummary>("POST", "/documents", body),
  rename: (id: number, title: string) => call<DocSummary>("PATCH", `/documents/${id}`, { title }),
  setDefaultAccess: (id: number, access: string) =>
    call<DocSummary>("PATCH", `/documents/${id}`, { default_access: access }),
  setPermission: (id: number, userId: number, role: string | null) =>
    call<DocPermission[]>("POST", `/documents/${id}/permissions`, { user_id: userId, role }),
  versions: (id: number) => call<DocVersion[]>("GET", `/documents/${id}/versions`),
  version: (id: number, versionId: number) => call<DocVersionDetail>("GET", `/documents/${id}/versions/${versionId}`),
  saveVersion: (id: number, name: string) => call<DocVersion>("POST", `/documents/${id}/versions`, { name }),
  restore: (id: number, versionId: number) =>
    call<{ document: DocSummary; before_restore_version_id: number }>(
      "POST",
      `/documents/${id}/versions/${versionId}/restore`,
    ),
  mentionable: (id: number, q: string) =>
    call<{ user_id: number; name: string }[]>("GET", `/documents/${id}/mentionable?q=${encodeURIComponent(q)}`),
  uploadImage: (id: number, file: File) =>
    upload<{ id: number; url: string; width: number | null; height: number | null }>(`/documents/${id}/images`, file),
  search: (workspaceId: number, q: string) =>
    call<DocSearchHit[]>("GET", `/documents/search?workspace=${workspaceId}&q=${encodeURIComponent(q)}&limit=10`),
};
