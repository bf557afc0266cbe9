import { useQuery } from '@tanstack/react-query';

/** A JSON Schema object as @nestjs/swagger writes it into the OpenAPI document. */
export interface SchemaNode {
  type?: string;
  enum?: (string | number)[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
  properties?: Record<string, SchemaNode>;
  allOf?: { $ref: string }[];
  $ref?: string;
  nullable?: boolean;
}
interface OpenApiDocument {
  components: { schemas: Record<string, SchemaNode> };
}
export type Values = Record<string, unknown>;
/**
 * What a person reads for a setting: a short name and a sentence saying what it changes; `percent` shows a share
 * the API takes as a fraction (0.2) in percent (20 %), as the rest of the console shows shares.
 */
export type Wording = Record<string, { label: string; help?: string; percent?: boolean }>;

/** The api's own OpenAPI document, read at run time so the form follows the server's ranges and defaults. */
export function useOpenApiSchemas() {
  return useQuery({
    queryKey: ['openapi'],
    queryFn: async () => ((await (await fetch('/docs-json')).json()) as OpenApiDocument).components.schemas,
    staleTime: Infinity,
  });
}

export function resolveSchema(node: SchemaNode, schemas: Record<string, SchemaNode>): SchemaNode {
  const reference = node.$ref ?? node.allOf?.[0]?.$ref;
  return reference ? { ...schemas[reference.split('/').at(-1)!], ...node, allOf: undefined, $ref: undefined } : node;
}

const humanise = (name: string) =>
  name
    .replace(/([A-Z])/g, ' $1')
    .toLowerCase()
    .replace(/^./, (first) => first.toUpperCase());

/** A fraction in percent, without the float noise of the product (0.07 × 100 is 7.000000000000001). */
const toPercent = (fraction: number) => Number((fraction * 100).toFixed(4));

/** A setting's value as the form shows it: on/off, a fraction in percent, else as it is. */
const shownValue = (value: unknown, percent: boolean) =>
  typeof value === 'boolean'
    ? value
      ? 'on'
      : 'off'
    : percent && typeof value === 'number'
      ? `${toPercent(value)} %`
      : String(value);

/**
 * What is wrong with a typed number, in words ("900 is more than 500, the most it takes."), or null: checked as it
 * is typed, so that the form says it before the API refuses the run.
 */
export function rangeProblem(node: SchemaNode, value: unknown, percent = false): string | null {
  if (typeof value !== 'number') return null;
  const shown = (number: number) => shownValue(number, percent);
  if (Number.isNaN(value)) return 'Type a number.';
  if (node.maximum !== undefined && value > node.maximum)
    return `${shown(value)} is more than ${shown(node.maximum)}, the most it takes.`;
  if (node.minimum !== undefined && value < node.minimum)
    return `${shown(value)} is less than ${shown(node.minimum)}, the least it takes.`;
  if (node.type === 'integer' && !Number.isInteger(value)) return `${value} is not a whole number: type one.`;
  return null;
}

/** "1 to 500 · default 10" (or "0 to 90 % · default 20 %"), from the schema. */
function limitsOf(node: SchemaNode, percent: boolean): string {
  const shown = (value: unknown) => shownValue(value, percent);
  return [
    node.minimum !== undefined && node.maximum !== undefined
      ? `${percent ? toPercent(node.minimum) : node.minimum} to ${shown(node.maximum)}`
      : '',
    node.default !== undefined && node.default !== null ? `default ${shown(node.default)}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** What a setting does, then its range and default; screen readers read it with the field (aria-describedby). */
export function FieldHint({ id, help, limits }: { id: string; help?: string; limits?: string }) {
  if (!help && !limits) return null;
  return (
    <small id={id} className="hint">
      {help}
      {help && limits ? ' ' : ''}
      {limits && <span className="limits">({limits})</span>}
    </small>
  );
}

/** One setting's input, chosen by its schema type, with its label, what it does, its range and its default. */
export function SchemaField({
  id,
  node,
  label,
  help,
  percent = false,
  value,
  onChange,
}: {
  id: string;
  node: SchemaNode;
  label: string;
  help?: string;
  /** A fraction shown and typed in percent; `value` and `onChange` stay fractions. */
  percent?: boolean;
  value: unknown;
  onChange: (value: unknown) => void;
}) {
  const limits = limitsOf(node, percent);
  const problem = rangeProblem(node, value, percent);
  const describedBy = [help || limits ? `${id}-hint` : '', problem ? `${id}-problem` : ''].filter(Boolean).join(' ');
  const described = {
    ...(describedBy ? { 'aria-describedby': describedBy } : {}),
    ...(problem ? { 'aria-invalid': true } : {}),
  };
  const hint = (
    <>
      {problem && (
        <small id={`${id}-problem`} className="error-text field-problem">
          {problem}
        </small>
      )}
      <FieldHint id={`${id}-hint`} help={help} limits={limits} />
    </>
  );
  if (node.type === 'boolean') {
    return (
      <div className="field">
        <label className="choice">
          <input
            id={id}
            {...described}
            type="checkbox"
            checked={Boolean(value ?? node.default)}
            onChange={(event) => onChange(event.target.checked)}
          />
          {label}
        </label>
        {hint}
      </div>
    );
  }
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {node.enum ? (
        <select id={id} {...described} value={String(value ?? '')} onChange={(event) => onChange(event.target.value)}>
          {node.enum.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      ) : percent ? (
        <span className="unit-input">
          <input
            id={id}
            {...described}
            type="number"
            min={node.minimum === undefined ? undefined : toPercent(node.minimum)}
            max={node.maximum === undefined ? undefined : toPercent(node.maximum)}
            step="any"
            value={typeof value === 'number' ? String(toPercent(value)) : ''}
            onChange={(event) => onChange(event.target.value === '' ? undefined : Number(event.target.value) / 100)}
          />
          <span aria-hidden="true">%</span>
        </span>
      ) : node.type === 'number' || node.type === 'integer' ? (
        <input
          id={id}
          {...described}
          type="number"
          min={node.minimum}
          max={node.maximum}
          step={node.type === 'integer' ? 1 : 'any'}
          value={value === undefined || value === null ? '' : String(value)}
          onChange={(event) => onChange(event.target.value === '' ? undefined : Number(event.target.value))}
        />
      ) : (
        <input
          id={id}
          {...described}
          value={String(value ?? '')}
          onChange={(event) => onChange(event.target.value || null)}
        />
      )}
      {hint}
    </div>
  );
}

/**
 * Inputs for the named properties of a schema (all of them by default), in that order: nested objects as fieldsets,
 * worded by `wording` (keyed by property path, e.g. `augmentation.brightness`) or else by the property's name.
 */
export function SchemaFields({
  schema,
  schemas,
  values,
  onChange,
  names = Object.keys(schema.properties ?? {}),
  wording = {},
  prefix = '',
}: {
  schema: SchemaNode;
  schemas: Record<string, SchemaNode>;
  values: Values;
  onChange: (values: Values) => void;
  names?: string[];
  wording?: Wording;
  prefix?: string;
}) {
  return (
    <>
      {names
        .filter((name) => schema.properties?.[name])
        .map((name) => {
          const node = resolveSchema(schema.properties![name], schemas);
          const words = wording[`${prefix}${name}`];
          const label = words?.label ?? humanise(name);
          const value = values[name];
          const set = (next: unknown) => onChange({ ...values, [name]: next });
          if (!node.properties) {
            return (
              <SchemaField
                key={name}
                id={`field-${prefix.replaceAll('.', '-')}${name}`}
                node={node}
                label={label}
                help={words?.help ?? node.description}
                percent={words?.percent}
                value={value}
                onChange={set}
              />
            );
          }
          return (
            <fieldset key={name}>
              <legend>{label}</legend>
              {words?.help && <p className="hint">{words.help}</p>}
              {node.nullable && (
                <label className="choice">
                  <input
                    type="checkbox"
                    checked={value !== null && value !== undefined}
                    onChange={(event) => set(event.target.checked ? {} : null)}
                  />
                  Use {label.toLowerCase()}
                </label>
              )}
              {value !== null && (
                <SchemaFields
                  schema={node}
                  schemas={schemas}
                  values={(value ?? {}) as Values}
                  onChange={set}
                  wording={wording}
                  prefix={`${prefix}${name}.`}
                />
              )}
            </fieldset>
          );
        })}
    </>
  );
}
