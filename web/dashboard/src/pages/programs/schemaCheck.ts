// A small JSON Schema check of a program document against GET /v1/programs/schema.json, run while
// the operator types, so most mistakes show beside their line before anything is sent. It covers the
// keywords that schema uses; the API stays the judge (it also checks the document against the
// workspace: assets, effective dates) and its errors replace these when the document is saved.

export type JsonSchema = {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  type?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

export interface Problem {
  path: string;
  message: string;
}

const join = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function fits(type: string, v: unknown) {
  const t = typeOf(v);
  return t === type || (type === 'number' && t === 'integer');
}

function matches(pattern: string, v: string) {
  try {
    return new RegExp(pattern, 'u').test(v);
  } catch {
    return true; // a pattern this browser cannot compile is left to the API
  }
}

export function checkDocument(root: JsonSchema, value: unknown): Problem[] {
  const resolve = (s: JsonSchema): JsonSchema => {
    let cur = s;
    for (let guard = 0; cur.$ref && guard < 10; guard++) {
      const name = cur.$ref.replace('#/$defs/', '');
      cur = root.$defs?.[name] ?? {};
    }
    return cur;
  };

  const check = (raw: JsonSchema, v: unknown, path: string): Problem[] => {
    const s = resolve(raw);
    const branches = s.anyOf ?? s.oneOf;
    if (branches) {
      const results = branches.map((b) => check(b, v, path));
      if (results.some((r) => r.length === 0)) return [];
      // The branch the author meant is the one that fits best: report its problems only.
      return results.reduce((a, b) => (b.length < a.length ? b : a));
    }
    if (s.const !== undefined && v !== s.const)
      return [{ path, message: `must be ${JSON.stringify(s.const)}` }];
    if (s.enum && !s.enum.includes(v)) {
      return [{ path, message: `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}` }];
    }
    if (s.type && !fits(s.type, v)) {
      return [
        {
          path,
          message: `must be ${s.type === 'integer' ? 'an integer' : `a${/^[aeiou]/.test(s.type) ? 'n' : ''} ${s.type}`}`,
        },
      ];
    }
    const out: Problem[] = [];
    if (typeof v === 'string') {
      if (s.minLength !== undefined && v.length < s.minLength)
        out.push({
          path,
          message: s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters`,
        });
      if (s.maxLength !== undefined && v.length > s.maxLength)
        out.push({ path, message: `must be at most ${s.maxLength} characters` });
      if (s.pattern && !matches(s.pattern, v))
        out.push({
          path,
          message:
            s.format === 'date-time'
              ? 'must be an ISO 8601 date-time with a time zone'
              : `must match ${s.pattern}`,
        });
      if (s.format === 'uri' && !/^https?:\/\/[^\s]+$/.test(v))
        out.push({ path, message: 'must be an http or https URL' });
    }
    if (typeof v === 'number') {
      if (s.minimum !== undefined && v < s.minimum)
        out.push({ path, message: `must be at least ${s.minimum}` });
      if (s.maximum !== undefined && v > s.maximum)
        out.push({ path, message: `must be at most ${s.maximum}` });
    }
    if (Array.isArray(v)) {
      if (s.minItems !== undefined && v.length < s.minItems)
        out.push({ path, message: `must have at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}` });
      if (s.maxItems !== undefined && v.length > s.maxItems)
        out.push({ path, message: `must have at most ${s.maxItems} items` });
      if (s.items) v.forEach((item, n) => out.push(...check(s.items!, item, join(path, n))));
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const obj = v as Record<string, unknown>;
      for (const key of s.required ?? []) {
        if (!(key in obj)) out.push({ path: join(path, key), message: `'${join(path, key)}' is required` });
      }
      for (const [key, child] of Object.entries(obj)) {
        const prop = s.properties?.[key];
        if (prop) out.push(...check(prop, child, join(path, key)));
        else if (s.additionalProperties === false)
          out.push({ path: join(path, key), message: `unknown field '${join(path, key)}'` });
        else if (typeof s.additionalProperties === 'object')
          out.push(...check(s.additionalProperties, child, join(path, key)));
      }
    }
    return out;
  };

  return check(root, value, '');
}

/**
 * The document with its fields in the order the schema declares them (the store keeps JSON objects
 * in its own order), so the editor reads like the documentation: key, name, referrer, ... rewards.
 */
export function inSchemaOrder(root: JsonSchema, value: unknown): unknown {
  const resolve = (s: JsonSchema | undefined): JsonSchema | undefined => {
    let cur = s;
    for (let guard = 0; cur?.$ref && guard < 10; guard++)
      cur = root.$defs?.[cur.$ref.replace('#/$defs/', '')];
    return cur;
  };
  const order = (raw: JsonSchema | undefined, v: unknown): unknown => {
    const s = resolve(raw);
    if (Array.isArray(v)) return v.map((item) => order(s?.items, item));
    if (v === null || typeof v !== 'object') return v;
    const obj = v as Record<string, unknown>;
    // Of a union, the branch whose fields these are (the one with a `const` this object matches, or any).
    const branch =
      (s?.anyOf ?? s?.oneOf)
        ?.map(resolve)
        .find(
          (b) =>
            b?.properties &&
            Object.entries(b.properties).every(([k, p]) => p.const === undefined || obj[k] === p.const),
        ) ?? s;
    const props = branch?.properties ?? {};
    const keys = [
      ...Object.keys(props).filter((k) => k in obj),
      ...Object.keys(obj).filter((k) => !(k in props)),
    ];
    return Object.fromEntries(keys.map((k) => [k, order(props[k], obj[k])]));
  };
  return order(root, value);
}
