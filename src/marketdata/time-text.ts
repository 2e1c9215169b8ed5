/**
 * Event times as text: ISO 8601 timestamps, or seconds after midnight (UTC) of a given date as LOBSTER files
 * write them, into whole microseconds since the epoch plus the nanoseconds within the microsecond, and back.
 * Exact to the nanosecond: digits are read as integers, never through a float or Date's milliseconds alone.
 */

export interface EventTime {
  readonly timeUs: number;
  readonly timeNs: number;
}

const US_PER_SEC = 1_000_000;
const SECONDS_PER_DAY = 86_400;
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const SECONDS = /^(\d{1,5})(?:\.(\d{1,9}))?$/;

/** Seconds since the epoch of a calendar date's midnight (UTC), or null when the date does not exist. */
function midnightSec(y: number, mo: number, d: number): number | null {
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31) return null;
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return ms / 1000;
}

/** Nanoseconds of a fraction's digits ("5" → 500000000). */
const fractionNs = (digits: string | undefined): number => Number((digits ?? '').padEnd(9, '0'));

function fromSeconds(sec: number, ns: number): EventTime {
  return { timeUs: sec * US_PER_SEC + Math.floor(ns / 1000), timeNs: ns % 1000 };
}

/** A date (YYYY-MM-DD) as seconds since the epoch of its UTC midnight, or null. */
export function parseDate(text: string): number | null {
  const m = DATE.exec(text);
  return m === null ? null : midnightSec(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** An ISO 8601 timestamp with seconds and a zone (Z or ±HH:MM), at or after 1970; null if malformed. */
export function parseIsoTime(text: string): EventTime | null {
  const m = ISO.exec(text);
  if (m === null) return null;
  const day = midnightSec(Number(m[1]), Number(m[2]), Number(m[3]));
  const [h, mi, s] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (day === null || h > 23 || mi > 59 || s > 59) return null;
  let offsetSec = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[8].slice(1, 3));
    const om = Number(m[8].slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetSec = (m[8][0] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const sec = day + h * 3600 + mi * 60 + s - offsetSec;
  if (sec < 0) return null;
  return fromSeconds(sec, fractionNs(m[7]));
}

/** Seconds after midnight ("34200.004241176", below 86400) of the day starting at `midnight` (s). */
export function parseSecondsAfterMidnight(text: string, midnight: number): EventTime | null {
  const m = SECONDS.exec(text);
  if (m === null) return null;
  const s = Number(m[1]);
  if (s >= SECONDS_PER_DAY) return null;
  return fromSeconds(midnight + s, fractionNs(m[2]));
}

/** The last whole second formatted: a stream of ticks formats the same second over and over. */
let wholeSec = Number.NaN;
let wholeText = '';

/** An ISO 8601 UTC timestamp: no fraction on a whole second, else 3, 6 or 9 digits, as few as exact. */
export function formatTime(timeUs: number, timeNs: number): string {
  // `%` is exact on doubles, and the difference is a multiple of 10^6, so the division is exact too.
  const us = timeUs % US_PER_SEC;
  const sec = (timeUs - us) / US_PER_SEC;
  if (sec !== wholeSec) {
    wholeText = new Date(sec * 1000).toISOString().slice(0, 19);
    wholeSec = sec;
  }
  const whole = wholeText;
  // Per tick on the hot path: no padStart, no trimming of a longer text.
  if (timeNs !== 0) return `${whole}.${digits(us, 6)}${digits(timeNs, 3)}Z`;
  if (us === 0) return `${whole}Z`;
  if (us % 1000 === 0) return `${whole}.${digits(us / 1000, 3)}Z`;
  return `${whole}.${digits(us, 6)}Z`;
}

const ZEROS = ['', '0', '00', '000', '0000', '00000'];
/** `n` (0 <= n < 10^width) in exactly `width` digits. */
function digits(n: number, width: number): string {
  const s = String(n);
  return s.length === width ? s : ZEROS[width - s.length] + s;
}
