// Workspace administration: usage against the operator's quotas (storage, members), the
// message retention the workspace chooses, and a full export — started here, run as a
// background job, followed with a progress bar, downloaded when done.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { adminApi, type ExportJob, type Policy } from "./api";
import { useAdminT } from "./i18n";
import { formatBytes, parseRetention, pollDelay, usedPercent } from "./logic";

export function WorkspacePanel({ workspaceId }: { workspaceId: number }) {
  const t = useAdminT();
  const [policy, setPolicy] = useState<Policy | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    adminApi.policy(workspaceId).then(setPolicy, (err: unknown) => setError(err instanceof ApiError ? err.message : t("error")));
  }, [workspaceId, t]);
  return (
    <section className="admin-section" aria-label={t("workspace")}>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {policy === null && !error && <p className="hint">{t("loading")}</p>}
      {policy && (
        <>
          <Usage policy={policy} />
          <Retention workspaceId={workspaceId} policy={policy} onSaved={setPolicy} />
        </>
      )}
      <Exports workspaceId={workspaceId} />
    </section>
  );
}

function Meter({ label, used, quota, text }: { label: string; used: number; quota: number | null; text: string }) {
  const percent = usedPercent(used, quota);
  return (
    <div className="usage-row">
      <span>{label}</span>
      {percent !== null && <meter min={0} max={100} low={80} high={95} optimum={0} value={percent} aria-label={label} />}
      <span className="hint">{text}</span>
    </div>
  );
}

function Usage({ policy }: { policy: Policy }) {
  const t = useAdminT();
  const used = formatBytes(policy.storage_used_bytes);
  const storageText =
    policy.storage_quota_bytes === null ? t("unlimited", { used }) : t("usedOf", { used, quota: formatBytes(policy.storage_quota_bytes) });
  const membersText =
    policy.member_quota === null
      ? t("unlimited", { used: policy.member_count })
      : t("usedOf", { used: policy.member_count, quota: policy.member_quota });
  return (
    <article className="admin-card" data-testid="usage">
      <h3>{t("usage")}</h3>
      <Meter label={t("storage")} used={policy.storage_used_bytes} quota={policy.storage_quota_bytes} text={storageText} />
      <Meter label={t("members")} used={policy.member_count} quota={policy.member_quota} text={membersText} />
    </article>
  );
}

function Retention({ workspaceId, policy, onSaved }: { workspaceId: number; policy: Policy; onSaved: (p: Policy) => void }) {
  const t = useAdminT();
  const [text, setText] = useState(policy.retention_days === null ? "" : String(policy.retention_days));
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const days = parseRetention(text);
    if (days === undefined) {
      setNotice(t("retentionInvalid"));
      return;
    }
    setBusy(true);
    try {
      onSaved(await adminApi.setRetention(workspaceId, days));
      setNotice(t("retentionSaved"));
    } catch (err) {
      setNotice(err instanceof ApiError ? err.message : t("error"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="admin-form admin-card" onSubmit={(e) => void submit(e)} aria-label={t("retention")}>
      <h3>{t("retention")}</h3>
      <label>
        {t("retentionDays")}
        <input inputMode="numeric" value={text} onChange={(e) => setText(e.target.value)} aria-describedby="retention-hint" />
      </label>
      <p className="hint" id="retention-hint">
        {t("retentionHint")}
      </p>
      <div className="admin-buttons">
        <button type="submit" disabled={busy}>
          {t("save")}
        </button>
        <span role="status" aria-live="polite" className="hint" data-testid="retention-notice">
          {notice}
        </span>
      </div>
    </form>
  );
}

function exportText(job: ExportJob, t: ReturnType<typeof useAdminT>): string {
  if (job.status === "running") return t("exportState_running", { done: job.done, total: job.total });
  if (job.status === "done") return t("exportState_done", { size: formatBytes(job.size) });
  if (job.status === "failed") return t("exportState_failed", { error: job.error });
  return t("exportState_queued");
}

function Exports({ workspaceId }: { workspaceId: number }) {
  const t = useAdminT();
  const [jobs, setJobs] = useState<ExportJob[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const load = useCallback(() => {
    adminApi.exports(workspaceId).then(setJobs, () => setJobs([]));
  }, [workspaceId]);
  useEffect(load, [load]);

  // Follow the newest export while it runs (same back-off as imports).
  const current = jobs[0];
  const runningId = current && (current.status === "queued" || current.status === "running") ? current.id : null;
  useEffect(() => {
    if (runningId === null) return;
    let attempt = 0;
    let live = true;
    let timer: ReturnType<typeof setTimeout>;
    const tick = () => {
      adminApi.exportJob(workspaceId, runningId).then(
        (job) => {
          if (!live) return;
          setJobs((list) => list.map((j) => (j.id === job.id ? job : j)));
          if (job.status === "queued" || job.status === "running") timer = setTimeout(tick, pollDelay(++attempt));
        },
        () => live && (timer = setTimeout(tick, pollDelay(++attempt))),
      );
    };
    timer = setTimeout(tick, pollDelay(attempt));
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [workspaceId, runningId]);

  const start = async () => {
    setBusy(true);
    setError("");
    try {
      const job = await adminApi.startExport(workspaceId);
      setJobs((list) => [job, ...list.filter((j) => j.id !== job.id)]);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t("error"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <article className="admin-card" aria-label={t("exportTitle")}>
      <h3>{t("exportTitle")}</h3>
      <div className="admin-buttons">
        <button type="button" disabled={busy || runningId !== null} onClick={() => void start()}>
          {t("exportStart")}
        </button>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <ul className="admin-list">
        {jobs.map((job) => (
          <li key={job.id} className="import-job" data-testid="export-job" data-state={job.status}>
            {(job.status === "queued" || job.status === "running") && (
              <progress
                max={Math.max(1, job.total)}
                value={Math.min(job.done, Math.max(1, job.total))}
                aria-label={t("exportProgress")}
              />
            )}
            <span role="status" aria-live="polite">
              {exportText(job, t)}
            </span>
            {job.download_url && (
              <a className="admin-download" href={job.download_url} download data-testid="export-download">
                {t("download")}
              </a>
            )}
          </li>
        ))}
      </ul>
    </article>
  );
}
