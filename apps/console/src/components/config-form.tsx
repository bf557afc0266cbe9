import { useQuery } from '@tanstack/react-query';

/** A JSON Schema object as @nestjs/swagger writes it into the OpenAPI document. */
interface SchemaNode {
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
type Values = Record<string, unknown>;

/** The api's own OpenAPI document, read at run time so the form follows the server's schema. */
export function useOpenApiSchemas() {
  return useQuery({
    queryKey: ['openapi'],
    queryFn: async () => ((await (await fetch('/docs-json')).json()) as OpenApiDocument).components.schemas,
    staleTime: Infinity,
  });
}

function resolve(node: SchemaNode, schemas: Record<string, SchemaNode>): SchemaNode {
  const reference = node.$ref ?? node.allOf?.[0]?.$ref;
  return reference ? { ...schemas[reference.split('/').at(-1)!], ...node, allOf: undefined, $ref: undefined } : node;
}

const humanise = (name: string) => name.replace(/([A-Z])/g, ' $1').replace(/^./, (first) => first.toUpperCase());

/** Inputs for every property of a schema: ranges, defaults and descriptions shown beside each. */
export function SchemaFields({
  schema,
  schemas,
  values,
  onChange,
  skip = [],
  prefix = '',
}: {
  schema: SchemaNode;
  schemas: Record<string, SchemaNode>;
  values: Values;
  onChange: (values: Values) => void;
  skip?: string[];
  prefix?: string;
}) {
  return (
    <>
      {Object.entries(schema.properties ?? {})
        .filter(([name]) => !skip.includes(name))
        .map(([name, raw]) => {
          const node = resolve(raw, schemas);
          const id = `field-${prefix}${name}`;
          const value = values[name];
          const set = (next: unknown) => onChange({ ...values, [name]: next });
          const hint = [
            node.minimum !== undefined && node.maximum !== undefined ? `${node.minimum} to ${node.maximum}` : '',
            node.default !== undefined && node.default !== null ? `default ${String(node.default)}` : '',
            node.description ?? '',
          ]
            .filter(Boolean)
            .join(' · ');
          // Screen readers read the range, default and description with the field, as sighted users see them beside it.
          const described = hint ? { 'aria-describedby': `${id}-hint` } : {};
          if (node.properties) {
            const nested = (value ?? {}) as Values;
            return (
              <fieldset key={name}>
                <legend>{humanise(name)}</legend>
                {node.nullable && (
                  <label className="choice">
                    <input
                      type="checkbox"
                      checked={value !== null && value !== undefined}
                      onChange={(event) => set(event.target.checked ? {} : null)}
                    />
                    Use {humanise(name).toLowerCase()}
                  </label>
                )}
                {value !== null && (
                  <SchemaFields
                    schema={node}
                    schemas={schemas}
                    values={nested}
                    onChange={set}
                    prefix={`${prefix}${name}-`}
                  />
                )}
              </fieldset>
            );
          }
          return (
            <div key={name} className="field">
              <label htmlFor={id}>{humanise(name)}</label>
              {node.enum ? (
                <select
                  id={id}
                  {...described}
                  value={String(value ?? '')}
                  onChange={(event) => set(event.target.value)}
                >
                  {node.enum.map((option) => (
                    <option key={option} value={option}>
                      {option}
                    </option>
                  ))}
                </select>
              ) : node.type === 'boolean' ? (
                <input
                  id={id}
                  {...described}
                  type="checkbox"
                  checked={Boolean(value ?? node.default)}
                  onChange={(event) => set(event.target.checked)}
                />
              ) : node.type === 'number' || node.type === 'integer' ? (
                <input
                  id={id}
                  {...described}
                  type="number"
                  min={node.minimum}
                  max={node.maximum}
                  step={node.type === 'integer' ? 1 : 'any'}
                  value={value === undefined || value === null ? '' : String(value)}
                  onChange={(event) => set(event.target.value === '' ? undefined : Number(event.target.value))}
                />
              ) : (
                <input
                  id={id}
                  {...described}
                  value={String(value ?? '')}
                  onChange={(event) => set(event.target.value || null)}
                />
              )}
              {hint && (
                <small id={`${id}-hint`} className="hint">
                  {hint}
                </small>
              )}
            </div>
          );
        })}
    </>
  );
}
