import fc from 'fast-check';

/**
 * Arbitraries for fuzzing the HTTP API. Bodies and query strings are built from the server's own
 * OpenAPI document, so they use the real field names and come near the real limits, then bend them:
 * wrong types, values just past each limit, strings with control characters, huge numbers, unknown
 * fields, and plain random JSON.
 */

type Schema = Record<string, any>;
type Doc = { components?: { schemas?: Record<string, Schema> } };

function resolve(schema: Schema, doc: Doc): Schema {
  let current = schema;
  for (let i = 0; i < 10 && typeof current.$ref === 'string'; i++) {
    const name = current.$ref.replace('#/components/schemas/', '');
    current = doc.components?.schemas?.[name] ?? {};
  }
  return current;
}

const controlChar = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));

/** Strings that are hard on parsers, encoders and the store. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: controlChar, maxLength: 8 }),
  fc.string({
    unit: fc.oneof(controlChar, fc.constantFrom('a', 'é', '\u{1F600}', '"', '\\', '%')),
  }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfff',
    '\u202e',
    '%',
    '%zz',
    '../../etc/passwd',
    '__proto__',
    'constructor',
    "'; drop table customers; --",
    'NaN',
    '-0',
    '1e400',
    'null',
    'true',
    '2026-02-30T25:61:61Z',
    '2026-01-01',
  ),
  fc.integer({ min: 0, max: 3000 }).map((n) => 'x'.repeat(n)),
);

/** Numbers around every boundary that matters: zero, signs, fractions, 2^31, 2^53, and beyond. */
export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(
    0,
    -0,
    -1,
    0.5,
    1.5,
    2 ** 31,
    2 ** 31 - 1,
    2 ** 53 - 1,
    2 ** 53,
    2 ** 53 + 2,
    1e12,
    1e12 + 1,
    1e15,
    1e21,
    1e300,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    -1e300,
  ),
);

/** Any JSON value, small enough to send quickly. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(nastyString, fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constant(null)), {
    maxKeys: 5,
  }),
  fc.array(fc.oneof(nastyString, nastyNumber), { maxLength: 5 }),
  nastyString,
  nastyNumber,
);

function stringLike(schema: Schema): fc.Arbitrary<unknown> {
  // Valid instants are from 1970 on and, for billing events, not ahead of the clock (which starts at the
  // real time): the valid ones stay in that window, so that requests can succeed, and instants before
  // or far after it are among the edges.
  const date = fc.date({
    min: new Date('1970-01-01'),
    max: new Date('2026-01-01'),
    noInvalidDate: true,
  });
  const outside = fc.oneof(
    fc.date({ min: new Date('1900-01-01'), max: new Date('1969-12-31'), noInvalidDate: true }),
    fc.date({ min: new Date('2030-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }),
  );
  let valid: fc.Arbitrary<unknown> = fc.string({ maxLength: 20 });
  const edges: fc.Arbitrary<unknown>[] = [nastyString];
  if (schema.format === 'date-time') {
    valid = fc.oneof(
      date.map((d) => d.toISOString()),
      date.map((d) => d.toISOString().replace('Z', '+05:30')),
    );
    edges.push(
      outside.map((d) => d.toISOString()),
      date.map((d) => d.toISOString().slice(0, 10)),
      date.map((d) => String(d.getTime())),
      date.map((d) => d.toISOString().replace('Z', '')),
      // The ends of what four digits of year can say, some carried by an offset into year -1 or 10000.
      fc.constantFrom(
        '0000-01-01T00:00:00Z',
        '0000-01-01T00:00:00+01:00',
        '1969-12-31T23:59:59.999Z',
        '9999-12-31T23:59:59.999Z',
        '9999-12-31T23:59:59-01:00',
      ),
    );
  } else if (schema.format === 'email') {
    valid = fc.emailAddress();
    edges.push(fc.emailAddress().map((e) => `${e}\u0000`));
  } else if (typeof schema.pattern === 'string') {
    try {
      valid = fc.stringMatching(new RegExp(schema.pattern), { size: 'small' });
    } catch {
      // A pattern fast-check cannot generate from gets ordinary strings.
    }
  }
  if (typeof schema.maxLength === 'number') {
    const max: number = schema.maxLength;
    edges.push(fc.constantFrom(max, max + 1).map((n) => 'a'.repeat(n)));
  }
  if (typeof schema.minLength === 'number' && schema.minLength > 0) {
    edges.push(fc.constant('a'.repeat(schema.minLength - 1)));
  }
  return fc.oneof({ weight: 8, arbitrary: valid }, { weight: 1, arbitrary: fc.oneof(...edges) });
}

function numberLike(schema: Schema): fc.Arbitrary<unknown> {
  const edges: fc.Arbitrary<unknown>[] = [nastyNumber];
  const min = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  if (min !== undefined) edges.push(fc.constantFrom(min, min - 1, min + 0.5));
  if (max !== undefined) edges.push(fc.constantFrom(max, max + 1, max - 0.5));
  const low = min !== undefined && Number.isSafeInteger(min) ? min : 0;
  const high = max !== undefined && Number.isSafeInteger(max) ? max : 1_000_000;
  const valid =
    schema.type === 'integer'
      ? fc.integer({ min: low, max: high })
      : fc.double({ min: low, max: high, noNaN: true });
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: fc.oneof(...edges) });
}

/**
 * A value shaped like `schema`, bent at random. `depth` bounds recursion; past it, plain JSON.
 */
export function fromSchema(schema: Schema, doc: Doc, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, doc);
  if (depth > 6) return anyJson;
  let shaped: fc.Arbitrary<unknown>;
  const branches = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (branches?.length) {
    shaped = fc.oneof(...branches.map((b) => fromSchema(b, doc, depth + 1)));
  } else if ('const' in s) {
    shaped = fc.oneof({ weight: 10, arbitrary: fc.constant(s.const) }, { weight: 1, arbitrary: nastyString });
  } else if (Array.isArray(s.enum)) {
    shaped = fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom(...(s.enum as unknown[])) },
      { weight: 1, arbitrary: nastyString },
    );
  } else {
    const type = Array.isArray(s.type) ? s.type[0] : s.type;
    switch (type) {
      case 'string':
        shaped = stringLike(s);
        break;
      case 'integer':
      case 'number':
        shaped = numberLike(s);
        break;
      case 'boolean':
        shaped = fc.boolean();
        break;
      case 'null':
        shaped = fc.constant(null);
        break;
      case 'array': {
        const item = s.items ? fromSchema(s.items, doc, depth + 1) : anyJson;
        const max = typeof s.maxItems === 'number' ? s.maxItems : 5;
        shaped = fc.oneof(
          fc.array(item, { maxLength: Math.min(max, 5) }),
          fc.array(item, { minLength: 1, maxLength: 3 }).map((xs) => [...xs, ...xs]),
        );
        break;
      }
      case 'object':
      case undefined: {
        const props = (s.properties ?? {}) as Record<string, Schema>;
        const fields: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [name, prop] of Object.entries(props)) fields[name] = fromSchema(prop, doc, depth + 1);
        const required = ((s.required ?? []) as string[]).filter((k) => k in fields);
        const known =
          Object.keys(fields).length > 0
            ? fc.oneof(
                {
                  weight: 6,
                  arbitrary: fc.record(fields, { requiredKeys: required }),
                },
                {
                  weight: 1,
                  arbitrary: fc.record(fields, { requiredKeys: [] }),
                },
              )
            : fc.constant({});
        const extra = fc.dictionary(fc.oneof(nastyString, fc.constant('id')), anyJson, { maxKeys: 2 });
        shaped = fc.oneof(
          { weight: 12, arbitrary: known },
          {
            weight: 1,
            arbitrary: fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...k })),
          },
          {
            weight: 1,
            arbitrary: s.additionalProperties
              ? fc.dictionary(nastyString, fromSchema(s.additionalProperties, doc, depth + 1), {
                  maxKeys: 60,
                })
              : known,
          },
        );
        break;
      }
      default:
        shaped = anyJson;
    }
  }
  return fc.oneof({ weight: 40, arbitrary: shaped }, { weight: 1, arbitrary: anyJson });
}

/** A body sent as raw text: JSON of a value, or text that is not JSON at all or is JSON at the edge. */
export function rawBody(value: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 10, arbitrary: value.map((v) => JSON.stringify(v) ?? 'null') },
    {
      weight: 1,
      arbitrary: value.map((v) =>
        (JSON.stringify(v) ?? 'null').replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/i, '1e400'),
      ),
    },
    {
      weight: 1,
      arbitrary: value.map((v) =>
        (JSON.stringify(v) ?? 'null').replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/i, '123456789012345678901234567890'),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '{',
        '{"a":',
        '[1,2',
        'nul',
        '{"a":1,}',
        "{'a':1}",
        '\u0000',
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{"x":1}}}',
        '{"a":"\\ud800"}',
        '{"a":"\\u0000"}',
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
        `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`,
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 50 }) },
  );
}

/** Header values a client can really send: visible ASCII, spaces and tabs, and latin-1 bytes. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 300,
  }),
  fc.string({
    unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
    maxLength: 5,
  }),
  fc.constantFrom('', ' ', '\t', 'x'.repeat(256), 'x'.repeat(255)),
);

/** A query string built from the route's real parameter names (and a few others), or raw junk. */
export function queryString(params: { name: string; schema: Schema }[], doc: Doc): fc.Arbitrary<string> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const p of params) fields[p.name] = fromSchema(p.schema, doc);
  const asText = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
  const known =
    params.length > 0
      ? fc.record(fields, { requiredKeys: [] }).map((r) => {
          const q = new URLSearchParams();
          for (const [k, v] of Object.entries(r)) {
            if (Array.isArray(v)) for (const item of v) q.append(k, asText(item));
            else q.append(k, asText(v));
          }
          return q.toString();
        })
      : fc.constant('');
  const unknownParams = fc
    .dictionary(nastyString, nastyString, { maxKeys: 3 })
    .map((d) => new URLSearchParams(d).toString());
  const raw = fc.constantFrom(
    'limit=%zz',
    'limit=',
    'limit=1&limit=2',
    '&&==&',
    'a[b]=c',
    '__proto__[x]=1',
    'starting_after=%00',
    'email=%00',
    'type=%00',
    'limit=1e400',
    'limit=-0',
    'limit=0x10',
    `starting_after=${'z'.repeat(300)}`,
  );
  return fc.oneof(
    { weight: 6, arbitrary: known },
    { weight: 1, arbitrary: unknownParams },
    { weight: 1, arbitrary: raw },
    {
      weight: 1,
      arbitrary: fc.tuple(known, unknownParams).map(([a, b]) => [a, b].filter(Boolean).join('&')),
    },
  );
}

/** Percent-encodes a path segment; unpaired surrogates, which no URL can carry, become U+FFFD first. */
export const encodeSegment = (s: string) => encodeURIComponent(s.replace(/\p{Cs}/gu, '\ufffd'));

/** A path parameter: a real id, a plausible id, or something no router or store should choke on. */
export function pathParam(realIds: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...realIds).map(encodeSegment) },
    {
      weight: 3,
      arbitrary: nastyString.filter((s) => s.length > 0).map(encodeSegment),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '%',
        '%zz',
        '%c0%af',
        '%ff',
        '%00',
        '..',
        '.',
        'a%2Fb',
        'x'.repeat(800),
        ';',
      ),
    },
  );
}

/**
 * fc.assert, with the failing assertion's own message appended: fast-check keeps it as the error's
 * cause, which the test runner's report does not show.
 */
export async function assertProperty<Ts>(
  property: fc.IAsyncPropertyWithHooks<Ts>,
  params: fc.Parameters<Ts>,
) {
  try {
    await fc.assert(property, params);
  } catch (err) {
    const cause = (err as Error).cause;
    if (err instanceof Error && cause instanceof Error) err.message += `\nCause: ${cause.message}`;
    throw err;
  }
}
