/**
 * LOBSTER order-book rebuild (../shared/formats/lobster.md, docs/marketdata.md): a message file in, one
 * order-book row per message out, with a report of everything that could not be applied as given.
 */
export { LobsterBook, MessageType } from './book.js';
export { EMPTY_ASK_PRICE, EMPTY_BID_PRICE, LEVELS_MAX } from './limits.js';
export { LobsterFormatError } from './parse.js';
export { ISSUE_CODES, type IssueCode, type IssueExample, type LobsterReportJson } from './report.js';
export { LobsterReplay, type ReplayOptions } from './replay.js';
export { parseBookRow, type BookRow } from './seed.js';
export {
  LobsterInputError,
  readInitialBook,
  replayLobsterFiles,
  type LobsterFilesOptions,
  type LobsterFilesResult,
} from './files.js';
