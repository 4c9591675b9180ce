/**
 * Loading and validating experiment configs. `loadExperimentConfig(file)` reads YAML, `parseExperimentConfig`
 * takes an object (a notebook's config); both fail with an ExperimentConfigError that lists every problem as
 * `line N, models[1].model: unknown model "svdd"; allowed: baseline, …` before any work is done.
 */
import { readFileSync } from 'node:fs';
import { basename, extname, isAbsolute, relative, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../util/errors';
import { sha256Hex } from '../util/hash';
import { projectRoot } from '../util/project';
import {
  type ExperimentConfig,
  type ExperimentConfigInput,
  type ExperimentConfigOutput,
  experimentSchema,
} from './schema';
import { type ConfigIssue, type ConfigPath, checkExperiment, formatPath } from './validate';

export interface LocatedIssue {
  /** e.g. "models[1].space.factors". */
  path: string;
  /** 1-based line in the YAML file, when known. */
  line: number | null;
  message: string;
}

/** A config with problems: every one is listed, with its field path (and line in the file). */
export class ExperimentConfigError extends ConfigError {
  constructor(
    readonly source: string,
    readonly issues: LocatedIssue[],
  ) {
    super(
      source,
      `invalid experiment config (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${issues
        .map((i) => `  ${i.line !== null ? `line ${i.line}, ` : ''}${i.path}: ${i.message}`)
        .join('\n')}`,
    );
  }
}

/** A loaded config with where it came from. */
export interface LoadedExperiment {
  config: ExperimentConfig;
  /** Path relative to the project root when inside it, else absolute; null for in-memory configs. */
  path: string | null;
  /** The config text (YAML), or the canonical JSON of an in-memory config. */
  text: string;
  sha256: string;
}

function zodIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(issue.path);
      message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${
        allowed ? `; allowed: ${allowed.join(', ')}` : ''
      }`;
      return { path: [...issue.path, issue.keys[0]!], message };
    }
    if (issue.code === 'invalid_type' && issue.received === 'undefined') message = 'required';
    return { path: issue.path, message };
  });
}

/** The keys the schema allows for the object at `path`. */
function allowedKeys(path: Array<string | number>): string[] | null {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definitions generically.
  let t: any = experimentSchema;
  const unwrap = () => {
    for (;;) {
      const name = t?._def?.typeName;
      if (name === 'ZodDefault' || name === 'ZodOptional' || name === 'ZodNullable') t = t._def.innerType;
      else if (name === 'ZodUnion')
        t =
          t._def.options.find((o: { _def: { typeName: string } }) => o._def.typeName === 'ZodObject') ??
          t._def.options[0];
      else return;
    }
  };
  unwrap();
  for (const seg of path) {
    if (t?._def?.typeName === 'ZodObject') t = t.shape[seg as string];
    else if (t?._def?.typeName === 'ZodArray') t = t._def.type;
    else if (t?._def?.typeName === 'ZodRecord') t = t._def.valueType;
    else return null;
    unwrap();
  }
  return t?._def?.typeName === 'ZodObject' ? Object.keys(t.shape) : null;
}

/**
 * Validates a config object (as written: YAML data or a notebook object) and returns it normalised;
 * `source` names it in errors, `name` is the default experiment name, `locate` maps a field path to a line.
 */
export function parseExperimentConfig(
  input: ExperimentConfigInput | unknown,
  options: { source?: string; name?: string; locate?: (path: ConfigPath) => number | null } = {},
): ExperimentConfig {
  const source = options.source ?? 'experiment config';
  const parsed = experimentSchema.safeParse(input);
  const issues: ConfigIssue[] = [];
  let config: ExperimentConfig | null = null;
  if (!parsed.success) issues.push(...zodIssues(parsed.error));
  else config = checkExperiment(parsed.data as ExperimentConfigOutput, { name: options.name }, issues);
  if (issues.length > 0)
    throw new ExperimentConfigError(
      source,
      issues.map((i) => ({
        path: formatPath(i.path),
        line: options.locate?.(i.path) ?? null,
        message: i.message,
      })),
    );
  return config!;
}

/** Parses YAML text (`file` names it in errors and gives the default name). */
export function parseExperimentYaml(text: string, file = 'experiment.yaml'): ExperimentConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new ExperimentConfigError(
      file,
      doc.errors.map((e) => ({
        path: '(yaml)',
        line: e.linePos?.[0]?.line ?? null,
        message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
      })),
    );
  const locate = (path: ConfigPath): number | null => {
    let node: unknown = doc.contents;
    let offset: number | null = rangeStart(node);
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
        if (!pair) break;
        offset = rangeStart(pair.key) ?? offset;
        node = pair.value;
        if (rangeStart(node) !== null && isScalar(node)) offset = rangeStart(node);
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        node = node.items[seg];
        offset = rangeStart(node) ?? offset;
      } else break;
    }
    return offset === null ? null : lines.linePos(offset).line;
  };
  return parseExperimentConfig(doc.toJS(), {
    source: file,
    name: basename(file, extname(file)),
    locate,
  });
}

function rangeStart(node: unknown): number | null {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : null;
}

/** Reads and validates a YAML experiment file. */
export function loadExperimentConfig(file: string): LoadedExperiment {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new ConfigError(file, `cannot read the experiment config: ${(err as Error).message}`);
  }
  const shown = displayPath(abs);
  const config = parseExperimentYaml(text, shown);
  return { config, path: shown, text, sha256: sha256Hex(text) };
}

/** A path relative to the project root when the file is inside it (stable across checkouts), else absolute. */
export function displayPath(abs: string): string {
  const rel = relative(projectRoot(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}
