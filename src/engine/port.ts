/**
 * What a gateway needs of an engine, whether the engine runs in its own process (`Engine`, in-process, as
 * `rialto start` runs it) or in another (`RemoteEngine` of gateway/remote, as `rialto gateway` runs it): one
 * interface, so that the gateway's code has one path.
 */
import type { Command } from '../core/index.js';
import type { BatchListener, EngineError, Receipt } from './engine.js';
import type { AccountReport, AccountsPage, Statements, VenueReport } from './protocol.js';
import type { WriterStats } from '../journal/index.js';

/** The engine's figures since it started, for /metrics: its journal writer's, and what it executed. */
export type EngineStats = Readonly<WriterStats> & {
  /** The last sequence number executed by the core. */
  readonly executedSeq: number;
  /** Batches of commands executed (one per message from the gateway). */
  readonly submits: number;
};

export interface EnginePort {
  /** The error that stopped the engine for good, or null. */
  readonly failed: EngineError | null;
  /** 'ok', or why no command can be taken now ('closing', 'failed: CODE', 'disconnected: ...'). */
  health(): string;
  /** Resolves with the commands' Receipt once they are durable and every subscriber has seen them. */
  submit(commands: readonly Command[]): Promise<Receipt>;
  /** Every durable batch from now on, in sequence order, before its submitters hear of it. */
  subscribe(listener: BatchListener): () => void;
  stateHash(): Promise<string>;
  highestOrderId(): Promise<number>;
  stats(): Promise<EngineStats>;
  accountReport(accountId: number): Promise<AccountReport | null>;
  accounts(afterId: number, limit: number): Promise<AccountsPage>;
  venueReport(): Promise<VenueReport>;
  statements(): Promise<Statements>;
  close(): Promise<void>;
}
