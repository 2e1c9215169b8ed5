/**
 * Executes a command the journal decoded by the kind byte it was decoded from. The byte is a small integer, so
 * this switch stays monomorphic, where the core's `execute` switches on the command's `kind` string, a load that
 * sees every command's shape (a megamorphic stub-cache probe, about a hundred instructions per command). Every
 * replay of the journal (recovery, the query projection, the views, a remote gateway) and the engine's live
 * path for framed records go through here, so that the benchmarks measure the dispatch production runs.
 */
import type { AmendOrder, CancelOrder, Command, PlaceOrder } from '../core/index.js';
import { COMMAND_KIND } from './command-codec.js';

/** The core's entry points (ExchangeCore has them); the journal knows only their types. */
export interface CommandExecutor {
  execute(cmd: Command): void;
  placeOrder(cmd: PlaceOrder): void;
  cancelOrder(cmd: CancelOrder): void;
  amendOrder(cmd: AmendOrder): void;
}

const KIND_PLACE = COMMAND_KIND.placeOrder;
const KIND_CANCEL = COMMAND_KIND.cancelOrder;
const KIND_AMEND = COMMAND_KIND.amendOrder;

/**
 * Executes `command` on `core`: the order commands through their typed entry points, the rest through
 * `execute`. `kind` must be the kind byte `command` was decoded from (what a RecordVisitor or
 * decodeFramedCommands hands out), which is what makes the casts below true.
 */
export function executeByKind(core: CommandExecutor, command: Command, kind: number): void {
  switch (kind) {
    case KIND_PLACE:
      return core.placeOrder(command as PlaceOrder);
    case KIND_CANCEL:
      return core.cancelOrder(command as CancelOrder);
    case KIND_AMEND:
      return core.amendOrder(command as AmendOrder);
    default:
      return core.execute(command);
  }
}
