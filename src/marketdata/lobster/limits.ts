/**
 * Every bound of the LOBSTER rebuild in one place: the depth of an output row, the length of an input line,
 * the size of the buffers, how many examples the report keeps. They are checked against each other below, at
 * load time, so that a change to one that breaks another fails at once rather than in the middle of a file.
 */

/** The deepest output row (LOBSTER itself publishes at most a few hundred levels). */
export const LEVELS_MAX = 200;
/** A message line longer than this is malformed (a real one is under 80 bytes). */
export const LINE_BYTES_MAX = 1024;
/** An order-book row (the --initial-book file's first line) longer than this is malformed. */
export const BOOK_ROW_BYTES_MAX = 1 << 20;
/** Bytes read from the message file at a time. */
export const READ_CHUNK_BYTES = 1 << 16;
/** The output buffer: full rows are written into it and handed on when the next row might not fit. */
export const OUTPUT_BUFFER_BYTES = 1 << 20;
/** The longest integer the row encoder writes: a sign and 16 digits (any safe integer). */
export const INTEGER_CHARS_MAX = 17;
/** The longest output row: 4 numbers per level, each followed by a comma or the newline. */
export const ROW_BYTES_MAX = LEVELS_MAX * 4 * (INTEGER_CHARS_MAX + 1);
/** Examples kept per kind of issue in the report (the counts are always complete). */
export const EXAMPLES_PER_KIND = 10;
/** Digits of a whole-number column: 15 keeps every value a safe integer. */
export const INTEGER_DIGITS_MAX = 15;
/** Digits of the whole seconds of the time column (a day has 86400 s; this leaves room, and ns stay safe). */
export const TIME_SECONDS_DIGITS_MAX = 6;
/** Decimals of the time column: LOBSTER writes nanoseconds at most. */
export const TIME_DECIMALS_MAX = 9;

/** The order-book file's markers of an empty level. */
export const EMPTY_ASK_PRICE = 9_999_999_999;
export const EMPTY_BID_PRICE = -9_999_999_999;

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`LOBSTER limits: ${message}`);
}

check(ROW_BYTES_MAX * 2 <= OUTPUT_BUFFER_BYTES, 'the output buffer must hold at least two full rows');
check(LINE_BYTES_MAX <= READ_CHUNK_BYTES, 'a line must fit in one read chunk');
check(10 ** INTEGER_DIGITS_MAX < Number.MAX_SAFE_INTEGER, 'whole-number columns must stay safe integers');
check(
  10 ** (TIME_SECONDS_DIGITS_MAX + TIME_DECIMALS_MAX) < Number.MAX_SAFE_INTEGER,
  'times in nanoseconds must stay safe integers',
);
check(EMPTY_ASK_PRICE < 10 ** INTEGER_DIGITS_MAX, 'the empty-level marker must parse as a price');
