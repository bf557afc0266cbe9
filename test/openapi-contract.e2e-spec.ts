import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictionAPIClient, PredictionAPIMappers } from '@azure/cognitiveservices-customvision-prediction';
import { TrainingAPIClient, TrainingAPIMappers } from '@azure/cognitiveservices-customvision-training';
import { ApiKeyCredentials, type Mapper, type OperationSpec } from '@azure/ms-rest-js';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BOOT_TIMEOUT_MS, startTestApp, type TestApp } from './support/test-app.js';

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; schema?: unknown }[];
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string }; example?: { code?: string } }> }>;
}
type OpenApiDocument = {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const operationsOf = (document: OpenApiDocument) =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ path, route: `${method.toUpperCase()} ${path}`, operation })),
  );

/** The codes each 4xx status shows as its example, over the given operations. */
function exampleCodes(operations: ReturnType<typeof operationsOf>): Map<string, Set<string>> {
  const examples = new Map<string, Set<string>>();
  for (const { operation } of operations) {
    for (const [status, response] of Object.entries(operation.responses)) {
      if (!/^4\d\d$/.test(status)) continue;
      const code = response.content?.['application/json']?.example?.code;
      if (code) examples.set(status, (examples.get(status) ?? new Set()).add(code));
    }
  }
  return examples;
}

type Schema = Record<string, unknown>;
const COMPOSITION = ['$ref', 'allOf', 'oneOf', 'anyOf'];
const SCALAR_KEYWORDS = ['format', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'enum'];

/**
 * Where a client generator would get `unknown` or a wrong type: a schema with no type, an object that says
 * nothing of its fields (not even that any field is allowed), or an "object" with a string's or number's
 * keywords (what a nullable field without an explicit type becomes).
 */
function untypedSchemas(node: unknown, at: string, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item, index) => untypedSchemas(item, `${at}/${index}`, found));
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return found;
  const schema = node as Schema;
  const composed = COMPOSITION.some((keyword) => keyword in schema);
  if (!composed && !('type' in schema)) found.push(`${at}: no type`);
  if (schema.type === 'object' && !composed && !schema.properties && schema.additionalProperties === undefined)
    found.push(`${at}: an object with no fields`);
  if (schema.type === 'object' && SCALAR_KEYWORDS.some((keyword) => keyword in schema))
    found.push(`${at}: an object with a scalar's keywords`);
  for (const key of ['items', 'additionalProperties', ...COMPOSITION.slice(1)]) {
    if (typeof schema[key] === 'object') untypedSchemas(schema[key], `${at}/${key}`, found);
  }
  for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, unknown>))
    untypedSchemas(property, `${at}.${name}`, found);
  return found;
}

/**
 * Redocly's recommended rules, and the descriptions a reader of Swagger UI misses most. operation-description
 * stays off: every operation has a summary (an error when missing), and a description where there is more to say.
 */
const REDOCLY_CONFIG = `extends:
  - recommended
rules:
  parameter-description: error
  operation-tag-defined: error
  tag-description: error
`;

/** The warnings left on purpose, each with why. */
const ACCEPTED_WARNINGS = [
  {
    // A health check answers 200 or 503: it takes no input a 4xx could refuse.
    rule: 'operation-4xx-response',
    at: '#/paths/~1health/get/responses',
  },
  {
    // /v1/projects/imports/labels could match both templates, but `imports` is not a UUID, so no project id is
    // ever it; renaming a path clients already use would break them.
    rule: 'no-ambiguous-paths',
    at: '#/paths/~1v1~1projects~1imports~1{importId}',
  },
];

/**
 * The requests Microsoft's Custom Vision SDKs send, as their generated clients describe them: each client method
 * is called with its transport replaced, so its operation spec (path, query parameters, body model) is captured
 * and nothing is sent.
 */
function sdkOperations(): { base: string; spec: OperationSpec; mappers: Record<string, Mapper> }[] {
  const clients = [
    { base: '/customvision/{version}/training/', client: TrainingAPIClient, mappers: TrainingAPIMappers },
    { base: '/customvision/{version}/prediction/', client: PredictionAPIClient, mappers: PredictionAPIMappers },
  ];
  return clients.flatMap(({ base, client: Client, mappers }) => {
    const specs: OperationSpec[] = [];
    const client = Object.assign(new Client(new ApiKeyCredentials({ inHeader: {} }), 'http://sdk'), {
      sendOperationRequest: (_: unknown, spec: OperationSpec) => {
        specs.push(spec);
        return Promise.resolve({});
      },
    });
    for (const method of Object.getOwnPropertyNames(Client.prototype).filter((name) => name !== 'constructor'))
      Reflect.apply(Reflect.get(client, method), client, ['a', 'b', 'c', 'd']);
    return specs.map((spec) => ({ base, spec, mappers: { ...mappers } }));
  });
}

/**
 * The fields of an SDK body model (at `at`) that the document's schema does not describe, nested models
 * included: a body the SDKs send must be documented field by field.
 */
function undocumentedFields(
  mapper: Mapper,
  schema: Schema | undefined,
  at: string,
  mappers: Record<string, Mapper>,
  schemas: Record<string, Schema>,
): string[] {
  const resolved = resolveSchema(schema, schemas);
  if (!resolved) return [`${at}: not documented`];
  const type = mapper.type as { name: string; className?: string; element?: Mapper; value?: Mapper };
  if (type.name === 'Sequence' && type.element)
    return undocumentedFields(type.element, resolved.items as Schema, `${at}[]`, mappers, schemas);
  if (type.name === 'Dictionary') return resolved.additionalProperties ? [] : [`${at}: not a map`];
  if (type.name !== 'Composite') return [];
  const model = mappers[type.className ?? ''] as { type: { modelProperties?: Record<string, Mapper> } } | undefined;
  const properties = (resolved.properties ?? {}) as Record<string, Schema>;
  return Object.values(model?.type.modelProperties ?? {}).flatMap((property) =>
    undocumentedFields(
      property,
      properties[property.serializedName ?? ''],
      `${at}.${property.serializedName}`,
      mappers,
      schemas,
    ),
  );
}

/** A schema with its $ref (or allOf of one $ref, as a described nested model is written) followed. */
function resolveSchema(schema: Schema | undefined, schemas: Record<string, Schema>): Schema | undefined {
  const reference = (schema?.$ref ?? (schema?.allOf as Schema[] | undefined)?.[0]?.$ref) as string | undefined;
  return reference ? schemas[reference.replace('#/components/schemas/', '')] : schema;
}

describe('the OpenAPI document (the API contract)', () => {
  let testApp: TestApp;
  let document: OpenApiDocument;

  beforeAll(async () => {
    testApp = await startTestApp();
    document = (await testApp.http.get('/docs-json').expect(200)).body;
  }, BOOT_TIMEOUT_MS);
  afterAll(() => testApp.destroy());

  it('names every operation readably and once: camelCase verbs, Custom Vision operations by their Azure names', () => {
    const ids = operationsOf(document).map(({ route, operation }) => ({ route, id: operation.operationId ?? '' }));
    const unreadable = ids.filter(({ id }) => !/^(?:[a-z][A-Za-z0-9]*|CustomVision_[A-Z][A-Za-z0-9]*)$/.test(id));
    expect(unreadable).toEqual([]);
    expect(new Set(ids.map(({ id }) => id)).size).toBe(ids.length);
  });

  it('defines every security scheme an operation names, so each route can be tried in Swagger UI', () => {
    const named = new Set(
      operationsOf(document).flatMap(({ operation }) => (operation.security ?? []).flatMap(Object.keys)),
    );
    expect([...named].filter((scheme) => !(scheme in document.components.securitySchemes))).toEqual([]);
    expect(named).toEqual(new Set(['bearer', 'deployment-key', 'training-key', 'prediction-key']));
  });

  it('shows each error status with an example of its own code, not one example for all', () => {
    const errorBody = /#\/components\/schemas\/(ApiErrorDto|CustomVisionErrorDto)$/;
    const withoutExample = operationsOf(document).flatMap(({ route, operation }) =>
      Object.entries(operation.responses)
        .filter(([, response]) => errorBody.test(String(response.content?.['application/json']?.schema?.$ref)))
        .filter(([, response]) => !response.content?.['application/json']?.example)
        .map(([status]) => `${route} ${status}`),
    );
    expect(withoutExample).toEqual([]);
    const native = exampleCodes(operationsOf(document).filter(({ path }) => !path.startsWith('/customvision/')));
    expect(native.get('400')).toEqual(new Set(['VALIDATION_FAILED']));
    expect(native.get('404')).toEqual(new Set(['PROJECT_NOT_FOUND']));
    expect(native.get('412')).toEqual(new Set(['REVISION_MISMATCH']));
  });

  it("documents every Custom Vision operation's errors in Custom Vision's body, with its codes", () => {
    const customVision = operationsOf(document).filter(({ path }) => path.startsWith('/customvision/'));
    const withoutErrors = customVision.filter(
      ({ operation }) => !['401', '404', '429'].every((status) => status in operation.responses),
    );
    expect(withoutErrors.map(({ route }) => route)).toEqual([]);
    const examples = exampleCodes(customVision);
    expect(examples.get('400')).toEqual(new Set(['BadRequestInvalidIds']));
    expect(examples.get('401')).toEqual(new Set(['Unauthorized']));
    expect(examples.get('404')).toEqual(new Set(['NotFoundProject']));
  });

  it('gives every answer a schema, and every schema a type a client can be generated from', () => {
    const withoutSchema = operationsOf(document).flatMap(({ route, operation }) =>
      Object.entries(operation.responses)
        // 204 No Content and 304 Not Modified have no body by definition.
        .filter(([status]) => status !== '204' && status !== '304')
        .filter(([, response]) => !response.content || Object.values(response.content).some((media) => !media.schema))
        .map(([status]) => `${route} ${status}`),
    );
    expect(withoutSchema).toEqual([]);
    const untyped = [
      ...Object.entries(document.components.schemas).flatMap(([name, schema]) => untypedSchemas(schema, name)),
      ...operationsOf(document).flatMap(({ route, operation }) => [
        ...(operation.parameters ?? []).flatMap((parameter) =>
          untypedSchemas(parameter.schema, `${route} ${parameter.name}`),
        ),
        ...Object.entries(operation.requestBody?.content ?? {}).flatMap(([type, media]) =>
          untypedSchemas(media.schema, `${route} ${type} body`),
        ),
        ...Object.entries(operation.responses).flatMap(([status, response]) =>
          Object.values(response.content ?? {}).flatMap((media) => untypedSchemas(media.schema, `${route} ${status}`)),
        ),
      ]),
    ];
    expect(untyped).toEqual([]);
  });

  it("documents every query parameter and body field Microsoft's SDKs send to a Custom Vision operation, and no other", () => {
    const schemas = document.components.schemas as Record<string, Schema>;
    const operations = sdkOperations();
    const sdkQueries = new Map(
      operations.map(({ base, spec }) => [
        `${spec.httpMethod} ${base}${spec.path}`,
        (spec.queryParameters ?? []).map((parameter) => parameter.mapper.serializedName),
      ]),
    );
    const invented = operationsOf(document)
      .filter(({ path }) => path.startsWith('/customvision/'))
      .flatMap(({ route, operation }) =>
        (operation.parameters ?? [])
          .filter((parameter) => parameter.in === 'query' && !sdkQueries.get(route)?.includes(parameter.name))
          .map((parameter) => `${route} ?${parameter.name}`),
      );
    expect(invented).toEqual([]);
    const undocumented = operations.flatMap(({ base, spec, mappers }) => {
      const route = `${spec.httpMethod} ${base}${spec.path}`;
      const operation = document.paths[`${base}${spec.path}`]?.[spec.httpMethod.toLowerCase()];
      if (!operation) return [`${route}: not served`];
      const queries = new Set((operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
      const content = operation.requestBody?.content ?? {};
      return [
        ...(spec.queryParameters ?? [])
          .map((parameter) => parameter.mapper.serializedName ?? '')
          .filter((name) => !queries.has(name))
          .map((name) => `${route} ?${name}`),
        ...(spec.requestBody
          ? undocumentedFields(
              spec.requestBody.mapper,
              content['application/json']?.schema as Schema,
              `${route} body`,
              mappers,
              schemas,
            )
          : []),
        ...(spec.formDataParameters ?? [])
          .map((parameter) => parameter.mapper.serializedName ?? '')
          .filter(
            (name) =>
              !(resolveSchema(content['multipart/form-data']?.schema as Schema, schemas)?.properties as Schema)?.[name],
          )
          .map((name) => `${route} multipart ${name}`),
      ];
    });
    expect(undocumented).toEqual([]);
  });

  it('passes Redocly lint with no errors, and no warnings but the ones accepted on purpose', async () => {
    const file = join(testApp.dataDir, 'openapi.json');
    const config = join(testApp.dataDir, 'redocly.yaml');
    writeFileSync(file, JSON.stringify(document));
    writeFileSync(config, REDOCLY_CONFIG);
    const redocly = join(process.cwd(), 'node_modules', '.bin', 'redocly');
    const lint = await promisify(execFile)(
      redocly,
      ['lint', file, `--config=${config}`, '--format=json', '--max-problems=1000'],
      { maxBuffer: 64 * 1024 * 1024 },
    ).catch((failure: { stdout: string }) => failure);
    const report = JSON.parse(lint.stdout) as {
      totals: { errors: number };
      problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
    };
    expect(report.problems.filter((problem) => problem.severity === 'error').map((problem) => problem.message)).toEqual(
      [],
    );
    expect(report.totals.errors).toBe(0);
    const warnings = report.problems.map((problem) => ({ rule: problem.ruleId, at: problem.location[0].pointer }));
    expect(warnings).toHaveLength(ACCEPTED_WARNINGS.length);
    expect(warnings).toEqual(expect.arrayContaining(ACCEPTED_WARNINGS));
  });

  it("is the document the console's typed client was generated from (rerun `npm run console:openapi` after an API change)", () => {
    const committed = JSON.parse(readFileSync('apps/console/src/api/openapi.json', 'utf8'));
    expect(committed).toEqual(document);
  });
});
