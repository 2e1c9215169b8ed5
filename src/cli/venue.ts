/**
 * Where the configuration meets the core: the commands that set up a configured venue's assets and
 * instruments, and a check that a fresh core accepts them all (what `rialto start` will do), so that
 * `rialto config validate` finds what the core would refuse.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { coreRejectName, decodeStream, ExchangeCore, type Command } from '../core/index.js';
import type { VenueConfig } from '../ops/config/types.js';

/** The configuration file `rialto` reads when no --config or RIALTO_CONFIG names one, if it exists. */
export const DEFAULT_CONFIG_FILE = 'rialto.yaml';

/** --config, else RIALTO_CONFIG (commander reads it into the option), else ./rialto.yaml if present, else none. */
export function configFileOf(option: string | undefined, cwd: string): string | null {
  if (option !== undefined && option !== '') return option;
  return existsSync(resolve(cwd, DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : null;
}

/** addAsset for every asset, then defineInstrument for every instrument. */
export function venueSetupCommands(config: VenueConfig, timeUs: number): Command[] {
  const commands: Command[] = config.assets.map((a) => ({
    kind: 'addAsset',
    timeUs,
    asset: a.id,
    code: a.code,
    decimals: a.decimals,
  }));
  for (const i of config.instruments)
    commands.push({ kind: 'defineInstrument', timeUs, spec: { ...i.spec } });
  return commands;
}

/** What a fresh core refuses of the venue's setup, one message per refused command (none: all accepted). */
export function venueSetupProblems(config: VenueConfig): string[] {
  const core = new ExchangeCore();
  const problems: string[] = [];
  for (const cmd of venueSetupCommands(config, 0)) {
    core.events.clear();
    core.execute(cmd);
    for (const e of decodeStream(core.events)) {
      if (e.type !== 'CommandRejected') continue;
      const what =
        cmd.kind === 'addAsset'
          ? `asset ${cmd.code}`
          : cmd.kind === 'defineInstrument'
            ? `instrument ${cmd.spec.symbol ?? cmd.spec.instrument}`
            : cmd.kind;
      problems.push(`the core refuses ${what}: ${coreRejectName(e.code)} (${e.code})`);
    }
  }
  return problems;
}
