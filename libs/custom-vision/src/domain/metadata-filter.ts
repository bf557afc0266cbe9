import { CustomVisionError } from './custom-vision-error.js';

type Comparison = { key: string; equal: boolean; value: string };
/** Disjunction of conjunctions: `and` binds tighter than `or`. */
export type MetadataFilter = Comparison[][];

function invalid(reason: string): CustomVisionError {
  return CustomVisionError.badRequest(
    'BadRequestInvalid',
    `filter: ${reason}. Example: key1 eq 'value1' and key2 ne 'value2'.`,
  );
}

/** Words and single-quoted strings ('' is a quote inside one). */
function tokens(expression: string): { text: string; quoted: boolean }[] {
  const found: { text: string; quoted: boolean }[] = [];
  let index = 0;
  while (index < expression.length) {
    const char = expression[index];
    if (/\s/.test(char)) {
      index += 1;
    } else if (char === "'") {
      let text = '';
      index += 1;
      for (;;) {
        if (index >= expression.length) throw invalid('a quoted value is not closed');
        if (expression[index] === "'") {
          if (expression[index + 1] === "'") {
            text += "'";
            index += 2;
            continue;
          }
          index += 1;
          break;
        }
        text += expression[index];
        index += 1;
      }
      found.push({ text, quoted: true });
    } else {
      const match = /^[^\s']+/.exec(expression.slice(index))!;
      found.push({ text: match[0], quoted: false });
      index += match[0].length;
    }
  }
  return found;
}

/** Custom Vision's metadata filter of image listings: `key eq 'value'`, `ne`, joined by `and` / `or`. */
export function parseMetadataFilter(expression: string): MetadataFilter {
  const list = tokens(expression);
  if (list.length === 0) throw invalid('it is empty');
  const groups: MetadataFilter = [[]];
  let index = 0;
  for (;;) {
    const [key, operator, value] = list.slice(index, index + 3);
    if (!key || key.quoted || !operator || !value || !value.quoted)
      throw invalid(`expected key eq 'value' at term ${index / 4 + 1}`);
    const op = operator.text.toLowerCase();
    if (op !== 'eq' && op !== 'ne') throw invalid(`${operator.text} is not eq or ne`);
    groups[groups.length - 1].push({ key: key.text, equal: op === 'eq', value: value.text });
    index += 3;
    if (index === list.length) return groups;
    const joiner = list[index].text.toLowerCase();
    if (list[index].quoted || (joiner !== 'and' && joiner !== 'or'))
      throw invalid(`${list[index].text} is not and or or`);
    if (joiner === 'or') groups.push([]);
    index += 1;
  }
}

export function matchesMetadata(metadata: Readonly<Record<string, string>>, filter: MetadataFilter): boolean {
  return filter.some((group) =>
    group.every(({ key, equal, value }) => (Object.hasOwn(metadata, key) && metadata[key] === value) === equal),
  );
}
