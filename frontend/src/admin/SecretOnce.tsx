// A credential the server shows once (webhook URL and secret, bot token): a read-only field
// with a copy button. The clipboard API needs a secure context; on plain-HTTP intranet
// installs the field is selected so the person can copy it by hand.

import { useRef, useState } from "react";
import { useAdminT } from "./i18n";

export function SecretOnce({ label, value, testId }: { label: string; value: string; testId: string }) {
  const t = useAdminT();
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      field.current?.select();
    }
  };
  return (
    <div className="secret-once">
      <label>
        {label}
        <input ref={field} readOnly value={value} data-testid={testId} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <button type="button" className="secondary" onClick={() => void copy()}>
        {copied ? t("copied") : t("copy")}
      </button>
    </div>
  );
}
