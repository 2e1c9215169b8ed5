/**
 * Loading the venue's configuration: the YAML file (optional), then the environment over it, then the
 * schema, then the checks that need several fields, then production mode's rules. Every problem found on the
 * way is collected, each naming its field path (and the environment variable it came from), so that one run
 * lists everything to fix; nothing here throws for a bad configuration.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import * as z from 'zod';
import { readEnvOverrides, type Env } from './env.js';
import { DEFAULT_ASSETS, DEFAULT_INSTRUMENTS, resolveAssets, resolveInstruments } from './instruments.js';
import { CONFIG_DEFAULTS, CONFIG_LIMITS } from './limits.js';
import { keyProblems, productionProblems } from './production.js';
import { ConfigFileSchema, type ConfigFile, type Mode } from './schema.js';
import type { ConfigProblem, ConfigResult, VenueConfig } from './types.js';

export interface LoadOptions {
  /** The YAML file, or null for defaults and the environment only. */
  file: string | null;
  /** The environment to read overrides from (process.env in the command line). */
  env: Env;
  /** Relative paths (the data directory) resolve against this directory. */
  cwd: string;
  /** Overrides the mode of the file and the environment (`rialto config validate --mode`). */
  mode?: Mode;
  /** Reads the file alone, without the environment's overrides. */
  ignoreEnv?: boolean;
}

type Json = Record<string, unknown>;

const isMapping = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file's contents as plain data, or problems. */
function readFile(file: string): { data: Json } | { problems: ConfigProblem[] } {
  const fail = (message: string) => ({ problems: [{ path: '', env: null, message }] });
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > CONFIG_LIMITS.fileBytesMax) {
      return fail(`is ${size} bytes; a configuration file has at most ${CONFIG_LIMITS.fileBytesMax}`);
    }
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : `cannot be read (${code ?? String(e)})`,
    );
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    return {
      // With prettyErrors, the first line of a message ends "at line L, column C:"; the context lines after
      // it would repeat the file's text (a secret, perhaps) into logs.
      problems: doc.errors.map((err) => ({
        path: '',
        env: null,
        message: `is not valid YAML: ${err.message.split('\n')[0].replace(/:$/, '')}`,
      })),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: CONFIG_LIMITS.yamlAliasesMax });
  } catch (e) {
    return fail(`is not valid YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (data === null || data === undefined) return { data: {} };
  if (!isMapping(data))
    return fail('must be a mapping of sections (mode, server, database, ...) at the top level');
  return { data };
}

/** Sets `value` at `path`, creating sections; a section that is not a mapping is left for the schema to report. */
function setAt(data: Json, path: readonly string[], value: unknown): void {
  let node = data;
  for (const key of path.slice(0, -1)) {
    const next = node[key] ?? {};
    if (!isMapping(next)) return;
    node[key] = next;
    node = next;
  }
  node[path[path.length - 1]] = value;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += (out === '' ? '' : '.') + String(key);
  }
  return out;
}

/** The keys a strict object at `path` allows, for "unknown key" messages. */
function allowedKeys(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = ConfigFileSchema;
  for (const key of path) {
    while (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable)
      schema = schema.unwrap() as z.ZodType;
    if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(key)];
    else return [];
    if (schema === undefined) return [];
  }
  while (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable)
    schema = schema.unwrap() as z.ZodType;
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function schemaProblems(error: z.ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(issue.path).join(', ');
      for (const key of issue.keys) {
        problems.push({
          path: formatPath([...issue.path, key]),
          env: null,
          message: `unknown key (allowed here: ${allowed})`,
        });
      }
    } else {
      problems.push({ path: formatPath(issue.path), env: null, message: issue.message });
    }
  }
  return problems;
}

/** The resolved configuration from a file that passed the schema, or problems. */
function resolveConfig(file: ConfigFile, cwd: string, problems: ConfigProblem[]): VenueConfig {
  const dataDir = resolve(cwd, file.dataDir ?? CONFIG_DEFAULTS.dataDir);
  const url = file.database?.url ?? null;
  const assets = resolveAssets(file.assets ?? DEFAULT_ASSETS, problems);
  const instruments = resolveInstruments(file.instruments ?? DEFAULT_INSTRUMENTS, assets, problems);
  const jwt = file.auth?.jwt;
  const limits = file.rateLimits;
  const pipeline = file.marketData?.pipeline;
  const mode = file.mode ?? CONFIG_DEFAULTS.mode;
  const hsts = file.server?.hsts;
  return {
    mode,
    dataDir,
    server: {
      host: file.server?.host ?? CONFIG_DEFAULTS.host,
      port: file.server?.port ?? CONFIG_DEFAULTS.port,
      // On by default in production, where clients reach the venue over HTTPS through a proxy.
      hsts:
        (hsts?.enabled ?? mode === 'production')
          ? {
              maxAgeSeconds: hsts?.maxAgeSeconds ?? CONFIG_DEFAULTS.hstsMaxAgeSeconds,
              includeSubDomains: hsts?.includeSubDomains ?? false,
            }
          : null,
      trustedProxies: file.server?.trustedProxies ?? [],
    },
    database:
      url === null
        ? { kind: 'pglite', dir: resolve(dataDir, CONFIG_DEFAULTS.pgliteDirName) }
        : { kind: 'postgres', url },
    queryTables: { enabled: file.database?.queryTables ?? url !== null },
    redisUrl: file.redis?.url ?? null,
    natsUrl: file.nats?.url ?? null,
    jetstream: {
      streamPrefix: file.nats?.streamPrefix ?? CONFIG_DEFAULTS.natsStreamPrefix,
      subjectPrefix: file.nats?.subjectPrefix ?? CONFIG_DEFAULTS.natsSubjectPrefix,
      duplicateWindowMs:
        1000 * (file.nats?.duplicateWindowSeconds ?? CONFIG_DEFAULTS.natsDuplicateWindowSeconds),
      ackWaitMs: 1000 * (file.nats?.ackWaitSeconds ?? CONFIG_DEFAULTS.natsAckWaitSeconds),
      ackPendingMax: file.nats?.ackPendingMax ?? CONFIG_DEFAULTS.natsAckPendingMax,
      streamMaxBytes: 1024 ** 2 * (file.nats?.streamMaxMegabytes ?? CONFIG_DEFAULTS.natsStreamMaxMegabytes),
    },
    logLevel: file.log?.level ?? CONFIG_DEFAULTS.logLevel,
    auth: {
      enabled: file.auth?.enabled ?? true,
      jwt: {
        secret: jwt?.secret ?? null,
        publicKey: jwt?.publicKey ?? null,
        privateKey: jwt?.privateKey ?? null,
        issuer: jwt?.issuer ?? null,
        audience: jwt?.audience ?? null,
      },
    },
    rateLimits: {
      enabled: limits?.enabled ?? true,
      requestsPerMinutePerIp: limits?.requestsPerMinutePerIp ?? CONFIG_DEFAULTS.requestsPerMinutePerIp,
      ordersPerSecondPerAccount:
        limits?.ordersPerSecondPerAccount ?? CONFIG_DEFAULTS.ordersPerSecondPerAccount,
      wsConnectionsPerIp: limits?.wsConnectionsPerIp ?? CONFIG_DEFAULTS.wsConnectionsPerIp,
    },
    marketData: {
      public: file.marketData?.public ?? true,
      pipeline: {
        enabled: pipeline?.enabled ?? true,
        bars: pipeline?.bars ?? CONFIG_DEFAULTS.barSpecs,
        latenessMs: pipeline?.latenessMs ?? CONFIG_DEFAULTS.barLatenessMs,
        partitionsAheadDays: pipeline?.partitionsAheadDays ?? CONFIG_DEFAULTS.partitionsAheadDays,
      },
      redisKeyPrefix: file.marketData?.redisKeyPrefix ?? CONFIG_DEFAULTS.redisKeyPrefix,
    },
    metrics: { token: file.metrics?.token ?? null },
    assets,
    instruments,
  };
}

/** The resolved configuration with every check beyond the schema's; problems are appended. */
function checked(file: ConfigFile, cwd: string, problems: ConfigProblem[]): VenueConfig {
  const config = resolveConfig(file, cwd, problems);
  problems.push(...keyProblems(config));
  if (config.mode === 'production') problems.push(...productionProblems(config));
  return config;
}

/**
 * The checks beyond the schema (instruments, keys, production mode) for a file the schema refused, so that
 * one run lists every problem: the top-level sections with schema problems are dropped (their defaults take
 * their place) and the rest is checked, reporting only problems in sections the schema found no fault with.
 */
function problemsBeyondSchema(data: Json, error: z.ZodError, cwd: string): ConfigProblem[] {
  const faulty = new Set(error.issues.map((i) => (i.path.length === 0 ? '' : String(i.path[0]))));
  if (faulty.has('')) {
    // Unknown top-level keys: drop them too.
    for (const i of error.issues)
      if (i.code === 'unrecognized_keys' && i.path.length === 0) i.keys.forEach((k) => faulty.add(k));
  }
  const rest = Object.fromEntries(Object.entries(data).filter(([key]) => !faulty.has(key)));
  const reparsed = ConfigFileSchema.safeParse(rest);
  if (!reparsed.success) return [];
  const problems: ConfigProblem[] = [];
  checked(reparsed.data, cwd, problems);
  const section = (path: string): string => path.split(/[.[]/)[0];
  return problems.filter((p) => !faulty.has(section(p.path)));
}

/** Loads and checks the configuration; never throws for a bad one (only for a bug). */
export function loadConfig(options: LoadOptions): ConfigResult {
  const file = options.file === null ? null : resolve(options.cwd, options.file);
  const warnings: string[] = [];
  const read = file === null ? { data: {} } : readFile(file);
  if ('problems' in read) return { ok: false, problems: read.problems, file, warnings };
  const data = read.data;

  const overrides = options.ignoreEnv === true ? null : readEnvOverrides(options.env);
  const problems: ConfigProblem[] = [...(overrides?.problems ?? [])];
  for (const name of overrides?.unknown ?? []) {
    warnings.push(`${name} is set but is not a Rialto setting (see docs/configuration.md)`);
  }
  for (const { variable, value } of overrides?.values.values() ?? []) setAt(data, variable.path, value);
  if (options.mode !== undefined) data.mode = options.mode;

  const parsed = ConfigFileSchema.safeParse(data);
  if (parsed.success) {
    const config = checked(parsed.data, options.cwd, problems);
    if (problems.length === 0) {
      const envApplied = [...(overrides?.values.values() ?? [])].map((o) => o.variable.name);
      if (config.mode === 'production' && config.metrics.token === null) {
        warnings.push(
          '/metrics is served without a token: set metrics.token (RIALTO_METRICS_TOKEN) or keep /metrics ' +
            'off the public network (block it at the proxy)',
        );
      }
      return { ok: true, config, file, envApplied, warnings };
    }
  } else {
    problems.push(...schemaProblems(parsed.error));
    problems.push(...problemsBeyondSchema(data, parsed.error, options.cwd));
  }
  // Name the variable behind each value that came from the environment.
  const fromEnv = new Map<string, string>();
  for (const [path, o] of overrides?.values ?? []) fromEnv.set(path, o.variable.name);
  const named = problems.map((p) =>
    p.env === null && fromEnv.has(p.path) ? { ...p, env: fromEnv.get(p.path) ?? null } : p,
  );
  return { ok: false, problems: named, file, warnings };
}

/** "server.port (from PORT): must be …", one line per problem. */
export function formatProblem(p: ConfigProblem, file: string | null): string {
  const where = p.path === '' ? (file ?? 'the configuration') : p.path;
  return `${where}${p.env === null ? '' : ` (from ${p.env})`}: ${p.message}`;
}

/** Thrown by loadConfigOrThrow: every problem in its message, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly problems: readonly ConfigProblem[],
    readonly file: string | null,
  ) {
    const n = problems.length;
    const whole = n === 1 && problems[0].path === '';
    super(
      whole
        ? formatProblem(problems[0], file)
        : `${file ?? 'the configuration'} is not valid (${n} problem${n === 1 ? '' : 's'}):\n` +
            problems.map((p) => '  ' + formatProblem(p, file)).join('\n'),
    );
  }
}

/** loadConfig for callers that stop on a bad configuration (`rialto start`, `rialto keys`). */
export function loadConfigOrThrow(options: LoadOptions): Extract<ConfigResult, { ok: true }> {
  const r = loadConfig(options);
  if (!r.ok) throw new ConfigError(r.problems, r.file);
  return r;
}
