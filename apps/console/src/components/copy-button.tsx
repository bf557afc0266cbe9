import { useState } from 'react';

/**
 * A button that copies `text` to the clipboard and then says so: it reads "✓ Copied", and beside it a status names
 * what is on the clipboard (read out by screen readers), until there is something else to copy. If the browser
 * refuses, the status says how to copy by hand instead of failing silently.
 */
export function CopyButton({ text, what, label = 'Copy' }: { text: string; what: string; label?: string }) {
  const [outcome, setOutcome] = useState<{ text: string; copied: boolean } | null>(null);
  const shown = outcome?.text === text ? outcome : null;
  const copy = () =>
    navigator.clipboard.writeText(text).then(
      () => setOutcome({ text, copied: true }),
      () => setOutcome({ text, copied: false }),
    );
  return (
    <>
      <button type="button" className="copy" onClick={() => void copy()}>
        {shown?.copied ? '✓ Copied' : label}
      </button>
      <span role="status" className="hint copy-status">
        {shown && (shown.copied ? ` ${what} is on the clipboard.` : ` Could not copy: select ${what} and copy it.`)}
      </span>
    </>
  );
}
