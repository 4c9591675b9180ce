import type { Command } from 'commander';
import { action, note, printResult } from './output';

// `reelab models …`: the MLflow Model Registry. Like main.ts, this module imports only commander's types and
// ./output at load time; the registry client is required when a command runs, so `--help` stays cheap.

type Registry = typeof import('../tracking/registry');
const registryModule = () => require('../tracking/registry') as Registry;

const TRACKING_OPTION = [
  '--tracking-uri <uri>',
  'server (default: MLFLOW_TRACKING_URI or the local default)',
] as const;

function registry(trackingUri?: string): InstanceType<Registry['ModelRegistry']> {
  const { DEFAULT_TRACKING_URI } = require('../tracking/connect') as typeof import('../tracking/connect');
  const { MlflowClient } = require('../tracking/mlflow-client') as typeof import('../tracking/mlflow-client');
  const uri = trackingUri ?? process.env.MLFLOW_TRACKING_URI ?? DEFAULT_TRACKING_URI;
  return new (registryModule().ModelRegistry)(
    new MlflowClient({ trackingUri: uri, warn: note, outboxDir: false }),
  );
}

/** Registers `reelab models list | show NAME | alias NAME VERSION ALIAS` on `program`. */
export function registerModelsCommands(program: Command): void {
  const models = program
    .command('models')
    .description('MLflow Model Registry: registered models, their versions and aliases');
  models
    .command('list')
    .description('registered models with their latest version and aliases')
    .option('--filter <filter>', 'MLflow search filter, e.g. "name LIKE \'ials%\'"')
    .option(...TRACKING_OPTION)
    .option('--json', 'print one JSON object')
    .action(action(modelsListCommand));
  models
    .command('show')
    .description('one registered model: every version (run, source, aliases)')
    .argument('<name>', 'registered model name')
    .option(...TRACKING_OPTION)
    .option('--json', 'print one JSON object')
    .action(action(modelsShowCommand));
  models
    .command('alias')
    .description('point ALIAS (e.g. champion) at VERSION of NAME; `alias NAME ALIAS --delete` removes it')
    .argument('<name>', 'registered model name')
    .argument('<version>', 'version number (with --delete: the alias)')
    .argument('[alias]', 'alias, e.g. champion')
    .option('--delete', 'remove the alias instead')
    .option(...TRACKING_OPTION)
    .option('--json', 'print one JSON object')
    .action(action(modelsAliasCommand));
}

interface CommonOptions {
  trackingUri?: string;
  json?: boolean;
}

export async function modelsListCommand(opts: CommonOptions & { filter?: string }): Promise<void> {
  const reg = registry(opts.trackingUri);
  const found = await reg.listRegisteredModels(opts.filter);
  const result = {
    trackingUri: reg.client.trackingUri,
    models: found.map((m) => {
      const latest = (m.latest_versions ?? []).map((v) => Number(v.version));
      return {
        name: m.name,
        latestVersion: latest.length > 0 ? String(Math.max(...latest)) : null,
        aliases: Object.fromEntries((m.aliases ?? []).map((a) => [a.alias, String(a.version)])),
        description: m.description ?? '',
        lastUpdated: m.last_updated_timestamp
          ? new Date(Number(m.last_updated_timestamp)).toISOString()
          : null,
      };
    }),
  };
  printResult(result, opts.json === true, (r: typeof result) =>
    r.models.length === 0
      ? `no registered models on ${r.trackingUri}`
      : r.models
          .map(
            (m) =>
              `${m.name}  latest v${m.latestVersion ?? '-'}` +
              (Object.keys(m.aliases).length
                ? `  ${Object.entries(m.aliases)
                    .map(([a, v]) => `@${a}→v${v}`)
                    .join(' ')}`
                : ''),
          )
          .join('\n'),
  );
}

export async function modelsShowCommand(name: string, opts: CommonOptions): Promise<void> {
  const reg = registry(opts.trackingUri);
  const model = await reg.getRegisteredModel(name);
  if (!model) {
    const { ConfigError } = require('../util/errors') as typeof import('../util/errors');
    throw new ConfigError('name', `no registered model "${name}" on ${reg.client.trackingUri}`);
  }
  const versions = await reg.versionsOf(name);
  const result = {
    name: model.name,
    description: model.description ?? '',
    aliases: Object.fromEntries((model.aliases ?? []).map((a) => [a.alias, String(a.version)])),
    versions: versions.map((v) => ({
      version: String(v.version),
      uri: `models:/${v.name}/${v.version}`,
      runId: v.run_id || null,
      source: v.source,
      status: v.status ?? null,
      aliases: v.aliases ?? [],
      created: v.creation_timestamp ? new Date(Number(v.creation_timestamp)).toISOString() : null,
    })),
  };
  printResult(result, opts.json === true, (r: typeof result) =>
    [
      `${r.name}${r.description ? ` — ${r.description}` : ''}`,
      ...r.versions.map(
        (v) =>
          `  v${v.version}${v.aliases.length ? ` (@${v.aliases.join(', @')})` : ''}  run ${v.runId ?? '-'}  ${v.created ?? ''}\n` +
          `      ${v.source}`,
      ),
    ].join('\n'),
  );
}

export async function modelsAliasCommand(
  name: string,
  version: string,
  alias: string | undefined,
  opts: CommonOptions & { delete?: boolean },
): Promise<void> {
  const { ConfigError } = require('../util/errors') as typeof import('../util/errors');
  const reg = registry(opts.trackingUri);
  if (opts.delete) {
    if (alias !== undefined)
      throw new ConfigError(
        'alias',
        'with --delete give only NAME and ALIAS (`models alias NAME ALIAS --delete`)',
      );
    await reg.deleteAlias(name, version);
    const result = { name, alias: version, version: null, deleted: true };
    printResult(result, opts.json === true, () => `removed @${version} from ${name}`);
    return;
  }
  if (alias === undefined) throw new ConfigError('alias', 'missing: `models alias NAME VERSION ALIAS`');
  if (!/^\d+$/.test(version)) throw new ConfigError('version', `expected a version number, got "${version}"`);
  if (!(await reg.getModelVersion(name, version)))
    throw new ConfigError('version', `registered model "${name}" has no version ${version}`);
  await reg.setAlias(name, alias, version);
  const result = { name, alias, version, deleted: false, uri: `models:/${name}@${alias}` };
  printResult(result, opts.json === true, () => `models:/${name}@${alias} → version ${version}`);
}
