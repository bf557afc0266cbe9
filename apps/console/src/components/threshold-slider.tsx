import { type ReactNode, useId } from 'react';
import { thresholdPercent } from './metric-thresholds';

/**
 * A 0–1 threshold in steps of 5%, its value named after the label ("Probability threshold: 50%"), with an optional
 * sentence under it saying what the threshold does.
 */
export function ThresholdSlider({
  label,
  value,
  onChange,
  min = 0,
  max = 1,
  hint,
}: {
  label: string;
  value: number;
  onChange: (value: number) => void;
  min?: number;
  max?: number;
  hint?: ReactNode;
}) {
  const hintId = useId();
  return (
    <>
      <label className="slider">
        {label}
        {thresholdPercent(value)}
        <input
          type="range"
          min={min}
          max={max}
          step={0.05}
          value={value}
          aria-describedby={hint ? hintId : undefined}
          onChange={(event) => onChange(Number(event.target.value))}
        />
      </label>
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
    </>
  );
}
