import type { Label } from '../api/client';

/** The project's labels as `<option>`s, valued by id or by name (whichever the endpoint the select feeds wants). */
export function LabelOptions({
  labels,
  by = 'id',
  describe,
}: {
  labels: readonly Label[];
  by?: 'id' | 'name';
  describe?: (label: Label) => string;
}) {
  return labels.map((label) => (
    <option key={label.id} value={label[by]}>
      {describe ? describe(label) : label.name}
    </option>
  ));
}
