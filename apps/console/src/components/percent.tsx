/** A probability or a metric (0–1) as a percentage; '–' when the API gave none. */
export const percent = (value: unknown, digits = 1) =>
  typeof value === 'number' ? `${(value * 100).toFixed(digits)}%` : '–';

/** A percentage typed in a filter, as the API's fraction (0–1). */
export const fraction = (percentage: string) => Number(percentage) / 100;

/** A probability typed in percent, the unit shown beside the field (the cards show probabilities so). */
export function PercentInput({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  return (
    <span className="unit-input">
      <input
        type="number"
        min={0}
        max={100}
        step={5}
        placeholder="0–100"
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
      <span aria-hidden="true">%</span>
    </span>
  );
}
