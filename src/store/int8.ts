/**
 * int8 and int8[] as bigint in both adapters, always: pg returns int8 as a string by default, and PGlite as a
 * number when it is a safe integer but a bigint when it is not (a type that changes with the value). PGlite
 * parses an array's elements with the element's parser, so INT8_OID alone covers int8[] there.
 */
export const INT8_OID = 20;
export const INT8_ARRAY_OID = 1016;

/** A one-dimensional int8[] in PostgreSQL's text form ({1,-2,NULL}): its elements need no quoting. */
export function parseInt8Array(text: string): (bigint | null)[] {
  if (text === '{}') return [];
  if (!text.startsWith('{') || !text.endsWith('}') || text.includes('{', 1)) {
    throw new Error(`unexpected int8[] text: ${text.slice(0, 40)}`);
  }
  return text
    .slice(1, -1)
    .split(',')
    .map((s) => (s === 'NULL' ? null : BigInt(s)));
}
