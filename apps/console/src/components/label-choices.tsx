import type { Label } from '../api/client';

/**
 * Multilabel: the project's labels as checkboxes, the ticked ones given back by name in the project's order (the
 * order the image will list them in).
 */
export function LabelChoices({
  legend,
  labels,
  chosen,
  onChange,
}: {
  legend: string;
  labels: readonly Label[];
  /** Label names. */
  chosen: readonly string[];
  onChange: (names: string[]) => void;
}) {
  return (
    <fieldset className="label-choices">
      <legend>{legend}</legend>
      {labels.map((label) => (
        <label key={label.id} className="choice">
          <input
            type="checkbox"
            checked={chosen.includes(label.name)}
            onChange={() =>
              onChange(
                labels
                  .map((each) => each.name)
                  .filter((each) => (each === label.name ? !chosen.includes(each) : chosen.includes(each))),
              )
            }
          />
          {label.name}
        </label>
      ))}
    </fieldset>
  );
}
