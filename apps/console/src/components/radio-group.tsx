import { type ReactNode, useId } from 'react';

export interface RadioOption<Value extends string> {
  value: Value;
  label: ReactNode;
}

/**
 * One choice among a few, as radio buttons under a legend. Each group gets its own name, so two groups on a page
 * never take each other's choice; the arrow keys move within the group as a browser's radio buttons do.
 * `inline` puts the choices side by side (short ones) rather than one a line.
 */
export function RadioGroup<Value extends string>({
  legend,
  options,
  value,
  onChange,
  inline = false,
}: {
  legend: string;
  options: readonly RadioOption<Value>[];
  value: Value;
  onChange: (value: Value) => void;
  inline?: boolean;
}) {
  const name = useId();
  return (
    <fieldset className={inline ? 'radio-group inline' : 'radio-group'}>
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option.value} className="choice">
          <input
            type="radio"
            name={name}
            value={option.value}
            checked={value === option.value}
            onChange={() => onChange(option.value)}
          />
          <span>{option.label}</span>
        </label>
      ))}
    </fieldset>
  );
}
