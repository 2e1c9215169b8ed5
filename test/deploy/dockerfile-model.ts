/**
 * The repository's Dockerfile as dockerfile-ast parses it, reduced to what the deployment tests look at: its
 * stages, each with its base image and its instructions in order (keyword, flags, the exec form's strings when
 * the instruction has one, the shell form's text otherwise). Both the static checks (dockerfile.test.ts) and
 * the run of the image's commands (image.test.ts) read the file through this one model, so they see the same
 * Dockerfile.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DockerfileParser,
  type Instruction,
  type JSONInstruction,
  type ModifiableInstruction,
} from 'dockerfile-ast';

/** The repository root: these files run as dist/test/deploy/*.js. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DOCKERFILE = join(ROOT, 'Dockerfile');
export const DOCKERIGNORE = join(ROOT, '.dockerignore');

export interface DockerInstruction {
  readonly keyword: string;
  /** `--name=value` flags (`--from=build`, `--interval=15s`); a flag without a value maps to null. */
  readonly flags: ReadonlyMap<string, string | null>;
  /** The arguments after the flags, whitespace-separated as the parser splits them. */
  readonly args: readonly string[];
  /** The exec form's strings (`["node", "main.js"]`), or null for the shell form. */
  readonly exec: readonly string[] | null;
  /** The arguments as written, line continuations joined. */
  readonly text: string;
  /** One-based, for messages. */
  readonly line: number;
}

export interface DockerStage {
  /** `AS name`, or null. */
  readonly name: string | null;
  readonly image: { readonly name: string; readonly tag: string | null; readonly digest: string | null };
  /** Everything after the FROM, in order. */
  readonly instructions: readonly DockerInstruction[];
}

export interface DockerfileModel {
  readonly stages: readonly DockerStage[];
  readonly directives: ReadonlyMap<string, string>;
}

function hasFlags(i: Instruction): i is ModifiableInstruction {
  return typeof (i as Partial<ModifiableInstruction>).getFlags === 'function';
}

function hasJson(i: Instruction): i is JSONInstruction {
  return typeof (i as Partial<JSONInstruction>).getJSONStrings === 'function';
}

function execForm(i: Instruction): string[] | null {
  if (!hasJson(i)) return null;
  const strings = i.getJSONStrings();
  return strings.length === 0 ? null : strings.map((s) => s.getJSONValue());
}

/** HEALTHCHECK keeps `CMD` before its exec form, which the parser does not read as JSON. */
function healthcheckExec(text: string): string[] | null {
  const m = /^CMD\s+(\[[\s\S]*\])\s*$/.exec(text);
  if (m === null) return null;
  const parsed: unknown = JSON.parse(m[1]);
  assert.ok(Array.isArray(parsed), 'HEALTHCHECK CMD: a JSON array');
  return parsed.map((s) => {
    assert.equal(typeof s, 'string', 'HEALTHCHECK CMD: strings');
    return String(s);
  });
}

function model(i: Instruction): DockerInstruction {
  const flags = new Map<string, string | null>();
  if (hasFlags(i)) for (const f of i.getFlags()) flags.set(f.getName(), f.getValue());
  const keyword = i.getKeyword();
  let text = i.getArgumentsContent() ?? '';
  // Flags are part of the arguments' text; the forms below start after them.
  for (const [name, value] of flags)
    text = text.replace(value === null ? `--${name}` : `--${name}=${value}`, '');
  text = text.trim();
  return {
    keyword,
    flags,
    args: i.getArguments().map((a) => a.getValue()),
    exec: keyword === 'HEALTHCHECK' ? healthcheckExec(text) : execForm(i),
    text,
    line: i.getRange().start.line + 1,
  };
}

export function parseDockerfile(content: string): DockerfileModel {
  const parsed = DockerfileParser.parse(content);
  const stages: DockerStage[] = [];
  let current: { stage: DockerStage; instructions: DockerInstruction[] } | null = null;
  for (const i of parsed.getInstructions()) {
    const keyword = i.getKeyword();
    if (keyword === 'FROM') {
      const from = parsed.getFROMs().find((f) => f.getRange().start.line === i.getRange().start.line);
      assert.ok(from !== undefined);
      const name = from.getImageName();
      assert.ok(name !== null, `line ${i.getRange().start.line + 1}: FROM without an image`);
      const instructions: DockerInstruction[] = [];
      current = {
        stage: {
          name: from.getBuildStage(),
          image: { name, tag: from.getImageTag(), digest: from.getImageDigest() },
          instructions,
        },
        instructions,
      };
      stages.push(current.stage);
      continue;
    }
    assert.ok(current !== null, `line ${i.getRange().start.line + 1}: ${keyword} before the first FROM`);
    current.instructions.push(model(i));
  }
  const directives = new Map(parsed.getDirectives().map((d) => [d.getName(), d.getValue()]));
  return { stages, directives };
}

export function readDockerfile(): DockerfileModel {
  return parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
}

export function instructionsOf(stage: DockerStage, keyword: string): DockerInstruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The last instruction with this keyword (ENTRYPOINT, CMD, USER, HEALTHCHECK: the last one wins). */
export function lastOf(stage: DockerStage, keyword: string): DockerInstruction | null {
  const all = instructionsOf(stage, keyword);
  return all.length === 0 ? null : all[all.length - 1];
}

/** The stage's ENV, in order (later values win). Only `ENV K=V ...` is supported: the old `ENV K V` is refused. */
export function envOf(stage: DockerStage): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of instructionsOf(stage, 'ENV')) {
    for (const arg of i.args) {
      const eq = arg.indexOf('=');
      assert.ok(eq > 0, `line ${i.line}: ENV ${arg}: write ENV NAME=value`);
      env.set(arg.slice(0, eq), arg.slice(eq + 1));
    }
  }
  return env;
}

/** A stage's ENTRYPOINT followed by its CMD, both in exec form (the shell form is refused: see the tests). */
export function startCommandOf(stage: DockerStage): string[] {
  const entrypoint = lastOf(stage, 'ENTRYPOINT');
  const cmd = lastOf(stage, 'CMD');
  const parts: string[] = [];
  for (const i of [entrypoint, cmd]) {
    if (i === null) continue;
    assert.ok(i.exec !== null, `line ${i.line}: ${i.keyword} must use the exec form (["node", ...])`);
    parts.push(...i.exec);
  }
  return parts;
}

export interface AptPackage {
  readonly name: string;
  /** `name=version`'s version, or null when not pinned. */
  readonly version: string | null;
}

/**
 * The Debian packages a RUN installs with `apt-get install` (the shell form's `&&`-joined commands), or null
 * when it runs no `apt-get install`. Options (`-y`, `--no-install-recommends`) are left out.
 */
export function aptPackagesOf(run: DockerInstruction): AptPackage[] | null {
  const command = run.exec === null ? run.text : run.exec.join(' ');
  const install = command
    .split(/&&|;/)
    .map((c) => c.trim().split(/\s+/))
    .find((words) => words[0] === 'apt-get' && words.includes('install'));
  if (install === undefined) return null;
  return install
    .slice(install.indexOf('install') + 1)
    .filter((w) => !w.startsWith('-'))
    .map((w) => {
      const eq = w.indexOf('=');
      return eq < 0 ? { name: w, version: null } : { name: w.slice(0, eq), version: w.slice(eq + 1) };
    });
}

/**
 * How long every shipped health check lets a start take before it counts a failure: a start replays the whole
 * journal before it listens (docs/deployment.md, start time), about 12 µs a record on two cores, so half an
 * hour is some 150 million commands.
 */
export const START_BUDGET_SECONDS = 30 * 60;

/** Seconds in a Docker or Compose duration (`90s`, `30m`, `1h30m`, `1m30s`). */
export function durationSeconds(text: string): number {
  const parts = [...text.matchAll(/(\d+)(h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new Error(`not a duration: ${text}`);
  const unit = { h: 3600, m: 60, s: 1 } as const;
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
}
