import type { Iteration } from '../api/client';

/** Iterations as `<option>`s valued by id, named as the project names them. */
export function IterationOptions({ iterations }: { iterations: readonly Pick<Iteration, 'id' | 'name'>[] }) {
  return iterations.map((iteration) => (
    <option key={iteration.id} value={iteration.id}>
      {iteration.name}
    </option>
  ));
}
