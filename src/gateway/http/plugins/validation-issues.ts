/**
 * Schema validators' issues (ajv's for REST, TypeBox's for WebSocket messages: the same shape) made readable.
 * A field that must be one of a few words is a union of constants in our schemas, and a wrong value gets an
 * issue per constant ("must be equal to constant") and one for the union ("must match a schema in anyOf"):
 * here they become one, "must be one of: buy, sell" (also for a value of another type, which each branch
 * refuses with "must be string"). An `enum` says the same.
 */

/** What this reads of an issue (each validator's own type has at least these fields). */
export interface SchemaIssue {
  readonly instancePath: string;
  readonly keyword?: string;
  readonly message: string;
  readonly params?: unknown;
}

const paramOf = (issue: SchemaIssue, name: string): unknown =>
  typeof issue.params === 'object' && issue.params !== null
    ? (issue.params as Record<string, unknown>)[name]
    : undefined;

const oneOf = (values: readonly unknown[]): string =>
  `must be one of: ${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;

/**
 * The issues with each union of constants said once, where its first constant was, as "must be one of: ...";
 * an `enum` likewise, and a lone constant as `must be "x"`. Other issues pass unchanged, in their order.
 */
export function readableIssues<T extends SchemaIssue>(issues: readonly T[]): (T | SchemaIssue)[] {
  const constsAt = new Map<string, unknown[]>();
  const unionAt = new Set<string>();
  for (const i of issues) {
    if (i.keyword === 'const') {
      const list = constsAt.get(i.instancePath) ?? [];
      list.push(paramOf(i, 'allowedValue'));
      constsAt.set(i.instancePath, list);
    } else if (i.keyword === 'anyOf') unionAt.add(i.instancePath);
  }
  const out: (T | SchemaIssue)[] = [];
  const said = new Set<string>();
  for (const i of issues) {
    const path = i.instancePath;
    if (i.keyword === 'const') {
      if (said.has(path)) continue;
      said.add(path);
      const values = constsAt.get(path) ?? [];
      const message = unionAt.has(path) ? oneOf(values) : `must be ${JSON.stringify(values[0])}`;
      out.push({ instancePath: path, keyword: 'enum', message, params: { allowedValues: values } });
    } else if ((i.keyword === 'anyOf' || i.keyword === 'type') && unionAt.has(path) && constsAt.has(path)) {
      // The union itself, and its branches' "must be string" for a value of another type: said by the one-of.
      continue;
    } else if (i.keyword === 'enum' && Array.isArray(paramOf(i, 'allowedValues'))) {
      out.push({ ...i, message: oneOf(paramOf(i, 'allowedValues') as unknown[]) });
    } else out.push(i);
  }
  return out;
}
