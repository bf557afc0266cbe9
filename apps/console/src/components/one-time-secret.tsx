import { useState } from 'react';
import { useLeaveWarning } from '../router';
import { CopyButton } from './copy-button';

/**
 * A key or token the server shows once: it stays on screen, and leaving the page (a link of the console, Back, closing
 * or reloading the tab) asks first, until the user says it is copied. Then only its start is shown, as a reminder.
 */
export function OneTimeSecret({
  secret,
  what,
  testId,
  prefix,
  copyLabel,
}: {
  secret: string;
  /** What it is, in words: "The key of production". */
  what: string;
  testId?: string;
  /** The start of the secret that the server keeps showing (e.g. dpk_12ab), for the reminder. */
  prefix?: string;
  /** The copy button's words: "Copy key". */
  copyLabel: string;
}) {
  const [savedSecret, setSavedSecret] = useState<string | null>(null);
  const saved = savedSecret === secret;
  useLeaveWarning(
    saved ? null : `${what} is shown only this once and has not been saved. Leave anyway? It cannot be shown again.`,
  );
  if (saved) {
    return (
      <p className="hint" role="status">
        {what} is saved, you said; it starts {prefix ?? secret.slice(0, 8)}…
      </p>
    );
  }
  return (
    <div className="key" role="group" aria-label={`${what}, shown once`}>
      <p>
        <strong>Copy it now:</strong> {what.charAt(0).toLowerCase() + what.slice(1)} is shown only this once. It stays
        here until you say it is saved.
      </p>
      <code data-testid={testId}>{secret}</code>
      <CopyButton text={secret} what={what} label={copyLabel} />
      <button type="button" onClick={() => setSavedSecret(secret)}>
        I have saved it
      </button>
    </div>
  );
}
