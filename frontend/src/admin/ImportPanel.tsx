// CSV/Excel import: upload → the server queues a background job → poll its progress (a real
// <progress> bar) → the per-row error report. Rejected rows are listed with their row number
// and reason; the good rows were kept by the server.

import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { adminApi, IMPORT_TYPES } from "./api";
import { useAdminT, type AdminKey } from "./i18n";
import { isFinished, pollDelay, progressValue, type ImportJob } from "./logic";

export function ImportPanel({ workspaceId }: { workspaceId: number }) {
  const t = useAdminT();
  const [type, setType] = useState<string>("customers");
  const [file, setFile] = useState<File | null>(null);
  const [job, setJob] = useState<ImportJob | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  // Poll the job until it is finished, backing off (logic.pollDelay); stops on unmount.
  const jobId = job?.id ?? null;
  const finished = job ? isFinished(job) : true;
  useEffect(() => {
    if (jobId === null || finished) return;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout>;
    let live = true;
    const tick = () => {
      adminApi.importJob(workspaceId, jobId).then(
        (next) => {
          if (!live) return;
          setJob(next);
          if (!isFinished(next)) timer = setTimeout(tick, pollDelay(++attempt));
        },
        () => live && (timer = setTimeout(tick, pollDelay(++attempt))),
      );
    };
    timer = setTimeout(tick, pollDelay(attempt));
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [workspaceId, jobId, finished]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file || busy) return;
    setBusy(true);
    setError("");
    setJob(null);
    try {
      setJob(await adminApi.startImport(workspaceId, file, type));
      setFile(null);
      if (fileInput.current) fileInput.current.value = "";
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t("error"));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="admin-section" aria-label={t("import")}>
      <form className="admin-form" onSubmit={(e) => void submit(e)}>
        <label>
          {t("importType")}
          <select value={type} onChange={(e) => setType(e.target.value)}>
            {IMPORT_TYPES.map((it) => (
              <option key={it} value={it}>
                {t(`import_${it}` as AdminKey)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("importFile")}
          <input
            ref={fileInput}
            type="file"
            accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
        </label>
        <div className="admin-buttons">
          <button type="submit" disabled={!file || busy}>
            {t("importStart")}
          </button>
        </div>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </form>
      {job && <ImportJobView job={job} />}
    </section>
  );
}

function ImportJobView({ job }: { job: ImportJob }) {
  const t = useAdminT();
  const value = progressValue(job);
  const text =
    job.state === "running"
      ? t("importState_running", { done: job.processed_rows, total: job.total_rows })
      : job.state === "done"
        ? t("importState_done", { created: job.created, updated: job.updated, rejected: job.rejected })
        : job.state === "failed"
          ? t("importState_failed", { failure: job.failure })
          : t("importState_queued");
  return (
    <div className="import-job" data-testid="import-job" data-state={job.state}>
      <p className="hint">{job.file_name}</p>
      <progress max={100} value={value} aria-label={t("importProgress")} data-testid="import-progress">
        {value}%
      </progress>
      <p role="status" aria-live="polite" data-testid="import-status">
        {text}
      </p>
      {job.errors.length > 0 && (
        <table className="admin-table" data-testid="import-errors">
          <caption>{t("rejectedRows")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("row")}</th>
              <th scope="col">{t("reason")}</th>
            </tr>
          </thead>
          <tbody>
            {job.errors.map((error, i) => (
              <tr key={`${error.row}-${i}`}>
                <td>{error.row}</td>
                <td>{error.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
