/**
 * `rialto config validate FILE`: checks a configuration file as `rialto start` would (with the environment's
 * overrides unless --ignore-env, in the file's mode unless --mode), then has a fresh core accept its assets
 * and instruments. Valid: a short summary on stdout, exit 0. Not valid: every problem on stderr, one per line,
 * exit 1, as for any malformed input file (exit 2 stays for a wrong command line).
 */
import { Option, type Command } from 'commander';
import { MODES, type Mode } from '../ops/config/modes.js';
import { CliError, type ProgramIo } from './cli-io.js';
import { venueSetupProblems } from './venue.js';

export function addConfigCommands(program: Command, io: ProgramIo): void {
  const config = program
    .command('config')
    .description("the venue's configuration file (docs/configuration.md)");

  config
    .command('validate')
    .summary('check a configuration file and print what it configures')
    .description(
      'Check a configuration file as `rialto start` would: YAML syntax, unknown keys, every value against ' +
        'its type and range, sizes against their assets, unique ids and symbols, JWT keys, and in production ' +
        'mode the production rules (secrets set, authentication and rate limits on, no debug or trace ' +
        "logging); then have a fresh core accept the assets and instruments. The environment's overrides " +
        '(PORT, DATABASE_URL, ...) apply unless --ignore-env. Prints a short summary (secrets never shown) ' +
        'and exits 0 when valid; lists every problem on stderr and exits 1 when not.',
    )
    .argument('<file>', 'the YAML configuration file')
    .addOption(
      new Option(
        '--mode <mode>',
        "check in this mode (default: the file's, else RIALTO_MODE, else development)",
      ).choices(MODES),
    )
    .option('--ignore-env', 'check the file alone, without the environment variables that override it')
    .action(async (file: string, opts: { mode?: Mode; ignoreEnv?: boolean }) => {
      // Loaded by this action, not by every `rialto` run (building the command tree).
      const { configSummary, ConfigError, loadConfig } = await import('../ops/config/index.js');
      const r = loadConfig({
        file,
        env: process.env,
        cwd: process.cwd(),
        mode: opts.mode,
        ignoreEnv: opts.ignoreEnv,
      });
      for (const w of r.warnings) io.stderr(`rialto: warning: ${w}\n`);
      if (!r.ok) throw new CliError(new ConfigError(r.problems, file).message);
      const refused = venueSetupProblems(r.config);
      if (refused.length > 0) {
        throw new CliError(
          `${file} is not valid (${refused.length} problems):\n` + refused.map((p) => `  ${p}`).join('\n'),
        );
      }
      io.stdout(
        `${file}: valid (${r.config.mode} mode)\n` + configSummary(r.config, r.envApplied).join('\n') + '\n',
      );
    });
}
