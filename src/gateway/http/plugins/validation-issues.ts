/**
 * Schema validators' issues (ajv's for REST, TypeBox's for WebSocket messages: the same shape) made readable.
 * A field that must be one of a few words is a union of constants in our schemas, and a wrong value gets an
 * issue per constant ("must be equal to constant") and one for the union ("must match a schema in anyOf"):
 * here they become one, "must be one of: buy, sell" (also for a value of another type, which each branch
 * refuses with "must be string"). An `enum` says the same. A pattern is said in words ("must be a decimal
 * number as a string, such as \"100.25\"", not the regular expression), a missing field "is required", and a
 * union of other schemas one sentence of its branches ("must be an id: ... or a whole number").
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

/**
 * What each pattern of the API's schemas asks for, said after "must be". Keyed by the pattern's source; a test
 * holds every pattern of the REST and WebSocket schemas to having its words here.
 */
const PATTERN_WORDS: ReadonlyMap<string, string> = new Map([
  ['^[0-9]+(\\.[0-9]+)?$', 'a decimal number as a string, such as "100.25"'],
  [
    '^(0|[1-9][0-9]{0,20})(\\.[0-9]{1,18})?$',
    'a decimal number as a string, without leading zeros and with at most 18 decimals, such as "0.01"',
  ],
  [
    '^-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,18})?$',
    'a decimal number as a string, negative allowed, without leading zeros and with at most 18 decimals, such as "-0.0001"',
  ],
  ['^[1-9][0-9]{0,15}$', 'an id as a string, such as "42" (a whole number from 1, of at most 16 digits)'],
  ['^[1-9][0-9]{0,6}$', 'an account id as a string, such as "7" (a whole number from 1 to 9999999)'],
  ['^[A-Z0-9]+$', 'an asset code of capital letters and digits, such as "USDT"'],
  ['^[A-Z0-9]{1,12}$', 'an asset code of 1 to 12 capital letters and digits, such as "USDT"'],
  [
    '^[A-Z0-9]+(?:[-/_.][A-Z0-9]+)*$',
    'a symbol of capital letters and digits, its parts joined by one of - / _ ., such as "BTC-USDT"',
  ],
  ['^[A-Z0-9][A-Z0-9._/-]*$', 'a symbol of capital letters, digits and . _ / -, such as "BTC-USDT"'],
  ['^[A-Za-z0-9_-]{16}$', 'a key id: 16 letters, digits, _ or - (the part of a key before its dot)'],
  ['^[A-Za-z]+(,[A-Za-z]+)*$', 'a comma-separated list of names, such as "engine,store"'],
  ['^[\\x21-\\x7e]{1,64}$', '1 to 64 printable ASCII characters, without spaces'],
  ['^[a-z0-9-]+$', 'an interval of lower-case letters, digits and -, such as "1m"'],
]);
/** `^[0-9]{1,N}$`: a query parameter's number, as its text. */
const DIGITS = /^\^\[0-9\]\{1,([0-9]+)\}\$$/;

/** The words for `pattern` (see PATTERN_WORDS), or null for a pattern not described. */
export function patternWords(pattern: string): string | null {
  const words = PATTERN_WORDS.get(pattern);
  if (words !== undefined) return words;
  const digits = DIGITS.exec(pattern);
  return digits === null ? null : `a whole number of at most ${digits[1]} digits`;
}

/** A branch of a union in words, from its issue; null when it cannot be said so. */
function branchWords(issue: SchemaIssue): string | null {
  if (issue.keyword === 'pattern') return patternWords(String(paramOf(issue, 'pattern')));
  if (issue.keyword === 'type') {
    const type = paramOf(issue, 'type');
    return typeof type === 'string' ? (TYPE_WORDS[type] ?? null) : null;
  }
  return null;
}
const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

const oneOf = (values: readonly unknown[]): string =>
  `must be one of: ${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;

/**
 * The issues with each union of constants said once, where its first constant was, as "must be one of: ...";
 * an `enum` likewise, and a lone constant as `must be "x"`; a pattern in words (PATTERN_WORDS); a missing
 * property as "is required" at its own path (TypeBox names them all in one issue, at the object); a union of
 * other schemas whose branches can each be said in words as one "must be A or B", where the union was. Other
 * issues pass unchanged, in their order.
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
  // Unions of other schemas, said whole when each branch's issue at the union's path has words.
  const branchesAt = new Map<string, string[] | null>();
  for (const i of issues) {
    const path = i.instancePath;
    if (!unionAt.has(path) || constsAt.has(path) || i.keyword === 'anyOf') continue;
    const words = branchWords(i);
    const list = branchesAt.get(path);
    if (list === null) continue;
    if (words === null) branchesAt.set(path, null);
    else if (list === undefined) branchesAt.set(path, [words]);
    else list.push(words);
  }
  const out: (T | SchemaIssue)[] = [];
  const said = new Set<string>();
  for (const i of issues) {
    const path = i.instancePath;
    const branches = branchesAt.get(path);
    if (branches !== undefined && branches !== null) {
      if (i.keyword === 'anyOf') {
        const message = `must be ${branches.join(' or ')}`;
        out.push({ instancePath: path, keyword: 'anyOf', message, params: {} });
      }
      continue;
    }
    if (i.keyword === 'pattern') {
      const words = patternWords(String(paramOf(i, 'pattern')));
      out.push(words === null ? i : { ...i, message: `must be ${words}` });
    } else if (i.keyword === 'required') {
      const one = paramOf(i, 'missingProperty');
      const all = paramOf(i, 'requiredProperties');
      if (typeof one === 'string') out.push({ ...i, message: 'is required' });
      else if (Array.isArray(all) && all.length > 0) {
        for (const name of all) {
          out.push({ instancePath: `${path}/${String(name)}`, keyword: 'required', message: 'is required' });
        }
      } else out.push(i);
    } else if (i.keyword === 'const') {
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
