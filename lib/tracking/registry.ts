import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ReelabError } from '../util/errors';
import { artifactProxyRoot, checkArtifactPath } from './artifacts';
import { MlflowApiError, type MlflowClient, type MlflowTag, type Page } from './mlflow-client';

/** A registered model (MLflow Model Registry). */
export interface RegisteredModel {
  name: string;
  creation_timestamp?: number | string;
  last_updated_timestamp?: number | string;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: MlflowTag[];
  aliases?: Array<{ alias: string; version: string }>;
}

/** One version of a registered model; `source` is where its files are (a run's `…/artifacts/model`). */
export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number | string;
  last_updated_timestamp?: number | string;
  current_stage?: string;
  description?: string;
  source: string;
  run_id?: string;
  model_id?: string;
  status?: string;
  run_link?: string;
  tags?: MlflowTag[];
  aliases?: string[];
}

/** Registered-model names MLflow accepts in `models:/` URIs: no slash, no leading/trailing space, not empty. */
function checkModelName(name: string): string {
  if (typeof name !== 'string' || name.trim() === '' || name !== name.trim() || name.includes('/'))
    throw new ConfigError('registered model name', `"${name}" must be a non-empty name without "/"`);
  return name;
}

function checkAlias(alias: string): string {
  // MLflow: aliases are letters, digits, "_" and "-" ("latest" and "v<digits>" are reserved).
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(alias) || /^v\d+$/i.test(alias) || alias.toLowerCase() === 'latest')
    throw new ConfigError(
      'alias',
      `"${alias}" is not a usable alias (letters, digits, "_" and "-"; not "latest" or "v<number>")`,
    );
  return alias;
}

function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Typed calls to the MLflow Model Registry REST API (2.0 endpoints as served by MLflow 3.x). */
export class ModelRegistry {
  constructor(readonly client: MlflowClient) {}

  // ---- registered models -------------------------------------------------------------------------------

  async createRegisteredModel(name: string, options: { description?: string; tags?: MlflowTag[] } = {}) {
    const res = await this.client.api<{ registered_model: RegisteredModel }>(
      'post',
      '/registered-models/create',
      {
        name: checkModelName(name),
        description: options.description,
        tags: options.tags,
      },
    );
    return res.registered_model;
  }

  /** The registered model, or null when there is none of that name. */
  async getRegisteredModel(name: string): Promise<RegisteredModel | null> {
    try {
      const res = await this.client.api<{ registered_model: RegisteredModel }>(
        'get',
        '/registered-models/get',
        {
          name: checkModelName(name),
        },
      );
      return res.registered_model;
    } catch (err) {
      if (err instanceof MlflowApiError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw err;
    }
  }

  /** The registered model called `name`, created when missing (safe against a concurrent create). */
  async ensureRegisteredModel(
    name: string,
    options: { description?: string } = {},
  ): Promise<RegisteredModel> {
    const found = await this.getRegisteredModel(name);
    if (found) return found;
    try {
      return await this.createRegisteredModel(name, options);
    } catch (err) {
      if (err instanceof MlflowApiError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const again = await this.getRegisteredModel(name);
        if (again) return again;
      }
      throw err;
    }
  }

  /** One page of registered models (`filter`: e.g. `name LIKE 'ials%'`). */
  async searchRegisteredModels(
    options: { filter?: string; maxResults?: number; pageToken?: string; orderBy?: string[] } = {},
  ): Promise<Page<RegisteredModel>> {
    const res = await this.client.api<{ registered_models?: RegisteredModel[]; next_page_token?: string }>(
      'get',
      '/registered-models/search',
      {
        filter: options.filter,
        max_results: options.maxResults ?? 1000,
        page_token: options.pageToken,
        order_by: options.orderBy,
      },
    );
    return { items: res.registered_models ?? [], nextPageToken: res.next_page_token || undefined };
  }

  /** Every registered model matching `filter`, following page tokens. */
  async listRegisteredModels(filter?: string): Promise<RegisteredModel[]> {
    const out: RegisteredModel[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.searchRegisteredModels({ filter, pageToken });
      out.push(...page.items);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return out;
  }

  // ---- versions ------------------------------------------------------------------------------------------

  /**
   * Creates a version of `name` (the registered model is created when missing) from a run's model folder:
   * `source` is the run's artifact URI + `/<artifactPath>` (what `runs:/<run>/<artifactPath>` resolves to).
   */
  async createVersionFromRun(
    name: string,
    run: { runId: string; artifactUri: string; artifactPath?: string },
    options: { description?: string; tags?: MlflowTag[] } = {},
  ): Promise<ModelVersion> {
    await this.ensureRegisteredModel(name);
    const path = checkArtifactPath(run.artifactPath ?? 'model');
    return this.createModelVersion({
      name,
      source: `${run.artifactUri.replace(/\/+$/, '')}/${path}`,
      runId: run.runId,
      description: options.description,
      tags: options.tags,
    });
  }

  async createModelVersion(args: {
    name: string;
    source: string;
    runId?: string;
    modelId?: string;
    description?: string;
    tags?: MlflowTag[];
  }): Promise<ModelVersion> {
    const res = await this.client.api<{ model_version: ModelVersion }>('post', '/model-versions/create', {
      name: checkModelName(args.name),
      source: args.source,
      run_id: args.runId,
      model_id: args.modelId,
      description: args.description,
      tags: args.tags,
    });
    return res.model_version;
  }

  /** The version, or null when the model or version does not exist. */
  async getModelVersion(name: string, version: string | number): Promise<ModelVersion | null> {
    try {
      const res = await this.client.api<{ model_version: ModelVersion }>('get', '/model-versions/get', {
        name: checkModelName(name),
        version: String(version),
      });
      return res.model_version;
    } catch (err) {
      if (err instanceof MlflowApiError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw err;
    }
  }

  /** Versions matching `filter` (e.g. `name='ials'`), all pages. */
  async searchModelVersions(filter?: string, orderBy?: string[]): Promise<ModelVersion[]> {
    const out: ModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.client.api<{ model_versions?: ModelVersion[]; next_page_token?: string }>(
        'get',
        '/model-versions/search',
        { filter, max_results: 10_000, order_by: orderBy, page_token: pageToken },
      );
      out.push(...(res.model_versions ?? []));
      pageToken = res.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /** Every version of `name`, newest first. */
  async versionsOf(name: string): Promise<ModelVersion[]> {
    const versions = await this.searchModelVersions(`name=${quote(checkModelName(name))}`);
    return versions.sort((a, b) => Number(b.version) - Number(a.version));
  }

  // ---- aliases -------------------------------------------------------------------------------------------

  /** Points `alias` at `version` of `name` (moving it if it pointed elsewhere). */
  async setAlias(name: string, alias: string, version: string | number): Promise<void> {
    await this.client.api('post', '/registered-models/alias', {
      name: checkModelName(name),
      alias: checkAlias(alias),
      version: String(version),
    });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.client.api('delete', '/registered-models/alias', {
      name: checkModelName(name),
      alias: checkAlias(alias),
    });
  }

  /** The version `alias` points at, or null when the model or alias does not exist. */
  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion | null> {
    try {
      const res = await this.client.api<{ model_version: ModelVersion }>('get', '/registered-models/alias', {
        name: checkModelName(name),
        alias: checkAlias(alias),
      });
      return res.model_version;
    } catch (err) {
      // MLflow 3 answers a missing alias with INVALID_PARAMETER_VALUE "Registered model alias … not found".
      if (
        err instanceof MlflowApiError &&
        (err.errorCode === 'RESOURCE_DOES_NOT_EXIST' ||
          (err.errorCode === 'INVALID_PARAMETER_VALUE' && /alias .* not found/i.test(err.message)))
      )
        return null;
      throw err;
    }
  }

  // ---- models:/ URIs -------------------------------------------------------------------------------------

  /** The version a `models:/NAME/3`, `models:/NAME@alias` or `models:/NAME/latest` URI names. */
  async resolve(uri: string | ModelUri): Promise<ModelVersion> {
    const ref = typeof uri === 'string' ? parseModelUri(uri) : uri;
    let found: ModelVersion | null;
    if (ref.alias !== undefined) found = await this.getVersionByAlias(ref.name, ref.alias);
    else if (ref.version === undefined || ref.version === 'latest')
      found = (await this.versionsOf(ref.name))[0] ?? null;
    else found = await this.getModelVersion(ref.name, ref.version);
    if (!found) {
      const registered = await this.getRegisteredModel(ref.name);
      throw new ConfigError(
        '--model',
        registered
          ? `${formatModelUri(ref)}: registered model "${ref.name}" has no ${ref.alias !== undefined ? `alias "${ref.alias}"` : `version ${ref.version}`}`
          : `${formatModelUri(ref)}: no registered model "${ref.name}" on ${this.client.trackingUri}`,
      );
    }
    return found;
  }
}

/** A parsed `models:/` URI: a version number, "latest", or an alias. */
export interface ModelUri {
  name: string;
  version?: string;
  alias?: string;
}

/** True for `models:/…` specs. */
export function isModelUri(spec: string): boolean {
  return spec.startsWith('models:/');
}

/** Parses `models:/NAME/3`, `models:/NAME/latest` and `models:/NAME@alias` (ConfigError otherwise). */
export function parseModelUri(uri: string): ModelUri {
  if (!isModelUri(uri)) throw new ConfigError('--model', `"${uri}" is not a models:/ URI`);
  const rest = uri.slice('models:/'.length).replace(/^\/+/, '');
  const at = /^([^/@]+)@([^/@]+)$/.exec(rest);
  if (at) return { name: checkModelName(at[1]!), alias: checkAlias(at[2]!) };
  const slash = /^([^/@]+)\/(\d+|latest)$/.exec(rest);
  if (slash) return { name: checkModelName(slash[1]!), version: slash[2]! };
  throw new ConfigError(
    '--model',
    `"${uri}" is not a registry URI; expected models:/NAME/<version>, models:/NAME/latest or models:/NAME@<alias>`,
  );
}

export function formatModelUri(ref: ModelUri): string {
  return ref.alias !== undefined ? `models:/${ref.name}@${ref.alias}` : `models:/${ref.name}/${ref.version}`;
}

/** Where a registry model came from, kept as `.registry.json` in its cache folder. */
export interface RegistrySource {
  uri: string;
  name: string;
  version: string;
  alias: string | null;
  runId: string | null;
  source: string;
  trackingUri: string;
}

export interface RegistryDownload {
  dir: string;
  registry: RegistrySource;
}

/** The cache of downloaded registry versions: REELAB_MODEL_CACHE/registry, else ~/.cache/reelab/models. */
export function registryCacheDir(cacheDir?: string): string {
  if (cacheDir) return join(cacheDir, 'registry');
  if (process.env.REELAB_MODEL_CACHE) return join(process.env.REELAB_MODEL_CACHE, 'registry');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'reelab', 'models', 'registry');
}

/**
 * Resolves a `models:/` URI through the registry and downloads the version's files (its `source`, through the
 * server's `mlflow-artifacts` proxy) into `<cache>/<name>/<version>`, once: a version's files never change, so
 * a complete cached copy is used as is (an alias is resolved again each time, since it can move).
 */
export async function downloadRegistryModel(
  client: MlflowClient,
  uri: string,
  options: { cacheDir?: string } = {},
): Promise<RegistryDownload> {
  const ref = parseModelUri(uri);
  if (ref.version !== undefined && ref.version !== 'latest') {
    // A numbered version never changes: a complete copy from this server is used without asking it.
    const cached = cachedCopy(join(registryCacheDir(options.cacheDir), safeSegment(ref.name), ref.version));
    if (cached && cached.registry.trackingUri === client.trackingUri)
      return { dir: cached.dir, registry: { ...cached.registry, uri, alias: null } };
  }
  const version = await new ModelRegistry(client).resolve(ref);
  const registry: RegistrySource = {
    uri,
    name: version.name,
    version: String(version.version),
    alias: ref.alias ?? null,
    runId: version.run_id || null,
    source: version.source,
    trackingUri: client.trackingUri,
  };
  const dir = join(registryCacheDir(options.cacheDir), safeSegment(version.name), String(version.version));
  const cached = cachedCopy(dir);
  if (
    cached &&
    cached.registry.source === version.source &&
    cached.registry.trackingUri === client.trackingUri
  )
    return { dir, registry: { ...cached.registry, uri, alias: registry.alias } };
  const root = sourceProxyPath(version.source);
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  try {
    const files = await listProxyFiles(client, root);
    if (files.length === 0)
      throw new ReelabError(
        `${formatModelUri(ref)}: version ${version.version} has no files at ${version.source}`,
      );
    for (const rel of files) {
      const local = join(partial, ...checkArtifactPath(rel, 'artifact name from the server').split('/'));
      mkdirSync(join(local, '..'), { recursive: true });
      await client.getArtifactToFile(`${root}/${rel}`, local);
    }
    writeFileSync(join(partial, '.registry.json'), `${JSON.stringify(registry, null, 2)}\n`);
    writeFileSync(join(partial, '.complete'), `${new Date().toISOString()}\n`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, '..'), { recursive: true });
    renameSync(partial, dir);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
  return { dir, registry };
}

function cachedCopy(dir: string): RegistryDownload | null {
  if (!existsSync(join(dir, '.complete'))) return null;
  const registry = registrySourceOf(dir);
  return registry ? { dir, registry } : null;
}

/** The registry provenance of a cached registry folder (null for any other folder). */
export function registrySourceOf(dir: string): RegistrySource | null {
  const file = join(dir, '.registry.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RegistrySource;
  } catch {
    return null;
  }
}

/** `mlflow-artifacts:/1/<run>/artifacts/model` → its path under the proxy root. */
function sourceProxyPath(source: string): string {
  try {
    return artifactProxyRoot(source);
  } catch {
    throw new ConfigError(
      '--model',
      `the version's source "${source}" is not served through the MLflow artifact proxy; reelab downloads ` +
        'registry models through it (register versions from runs logged to this server)',
    );
  }
}

/** Every file below `root` under the proxy, as paths relative to it. */
async function listProxyFiles(client: MlflowClient, root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await client.listArtifactsAt(prefix ? `${root}/${prefix}` : root)) {
    const name = entry.path.split('/').pop()!;
    const rel = prefix ? `${prefix}/${name}` : name;
    if (entry.isDir) out.push(...(await listProxyFiles(client, root, rel)));
    else out.push(rel);
  }
  return out;
}

function safeSegment(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Checks a `--register NAME [--alias ALIAS]` pair before any work is done (ConfigError). */
export function checkRegistration(name: string, alias?: string | null): void {
  checkModelName(name);
  if (alias !== undefined && alias !== null) checkAlias(alias);
}

export interface Registered {
  name: string;
  version: string;
  alias: string | null;
  /** `models:/NAME/<version>` */
  uri: string;
  source: string;
}

/**
 * Registers the model folder a run logged (`<artifact uri>/<artifactPath>`) as a new version of `name` and
 * points `alias` at it. Null (with a warning) when the run is still in the outbox: it has no server id yet.
 */
export async function registerRunModel(
  client: MlflowClient,
  runId: string | null,
  name: string,
  options: { alias?: string | null; artifactPath?: string; description?: string; tags?: MlflowTag[] } = {},
): Promise<Registered | null> {
  checkRegistration(name, options.alias);
  if (!runId) {
    client.warn(
      `not registering "${name}": the run is in the outbox (MLflow is unreachable); once it is replayed, ` +
        'register it from the MLflow UI or with `reelab train … --register` again',
    );
    return null;
  }
  const run = await client.getRun(runId);
  if (!run.info.artifact_uri) throw new ReelabError(`MLflow run ${runId} has no artifact location`);
  const registry = new ModelRegistry(client);
  const version = await registry.createVersionFromRun(
    name,
    { runId, artifactUri: run.info.artifact_uri, artifactPath: options.artifactPath },
    { description: options.description, tags: options.tags },
  );
  if (options.alias) await registry.setAlias(name, options.alias, version.version);
  return {
    name,
    version: String(version.version),
    alias: options.alias ?? null,
    uri: `models:/${name}/${version.version}`,
    source: version.source,
  };
}
