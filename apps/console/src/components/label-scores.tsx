import { percent } from './percent';

/** A label's scores in a per-label table, as the iteration page and a test run show them. */
export interface LabelScores {
  precision: number;
  recall: number;
  f1: number;
  ap?: number;
}

/** The headers of a per-label table's score columns; `apColumn` is AP, or AP@50 where boxes must overlap. */
export function ScoreHeaders({ apColumn = 'AP' }: { apColumn?: string }) {
  return (
    <>
      <th scope="col">Precision</th>
      <th scope="col">Recall</th>
      <th scope="col">F1</th>
      <th scope="col">{apColumn}</th>
    </>
  );
}

/** One label's score cells, each named by its column for the phone layout (a card per label). */
export function ScoreCells({ row, apColumn = 'AP' }: { row: LabelScores; apColumn?: string }) {
  return (
    <>
      <td data-label="Precision">{percent(row.precision)}</td>
      <td data-label="Recall">{percent(row.recall)}</td>
      <td data-label="F1">{percent(row.f1)}</td>
      <td data-label={apColumn}>{percent(row.ap)}</td>
    </>
  );
}
