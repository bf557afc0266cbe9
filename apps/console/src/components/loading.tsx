/** Said while a list is on its way, so an empty screen is never mistaken for an empty list. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="hint" role="status" aria-busy="true">
      Loading {what}…
    </p>
  );
}
