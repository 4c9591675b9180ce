import { lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../util/errors';
import { MlflowApiError, type MlflowClient } from './mlflow-client';

/**
 * Checks a path relative to a run's artifact root and returns it in normal form. Rejected with a ConfigError:
 * empty paths or segments (`a//b`, trailing `/`), `.` and `..` segments, absolute paths (`/x`, `C:/x`),
 * backslashes and NUL or other control characters — so no path can leave the run's artifact root.
 */
export function checkArtifactPath(path: string, field = 'artifact path'): string {
  if (typeof path !== 'string' || path.length === 0) throw new ConfigError(field, 'must not be empty');
  const shown = JSON.stringify(path);
  if (hasControlChar(path)) throw new ConfigError(field, `${shown} contains a NUL or control character`);
  if (path.includes('\\'))
    throw new ConfigError(field, `${shown} contains a backslash; use "/" between folders`);
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path))
    throw new ConfigError(
      field,
      `${shown} is absolute; artifact paths are relative to the run's artifact root`,
    );
  for (const segment of path.split('/')) {
    if (segment === '') throw new ConfigError(field, `${shown} has an empty name between slashes`);
    if (segment === '.' || segment === '..')
      throw new ConfigError(field, `${shown} contains "${segment}"; it could leave the run's artifact root`);
  }
  return path;
}

/** `mlflow-artifacts:/1/<run>/artifacts` → `1/<run>/artifacts` (the path under the server's proxy root). */
export function artifactProxyRoot(artifactUri: string): string {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri);
  if (!m?.[1])
    throw new ConfigError(
      'artifact_uri',
      `"${artifactUri}" is not served through the MLflow artifact proxy (start the server with artifact ` +
        'serving, as `reelab mlflow server` does)',
    );
  return m[1].replace(/\/+$/, '');
}

export interface ArtifactEntry {
  /** Path relative to the run's artifact root. */
  path: string;
  isDir: boolean;
  fileSize?: number;
}

/** Artifacts of one run, addressed by paths relative to its artifact root. */
export class RunArtifacts {
  readonly root: string;

  constructor(
    readonly client: MlflowClient,
    artifactUri: string,
  ) {
    this.root = artifactProxyRoot(artifactUri);
  }

  private full(path: string): string {
    return `${this.root}/${checkArtifactPath(path)}`;
  }

  /** Uploads a local file to `path` (default: the file's name at the root). */
  async uploadFile(localFile: string, path: string = basename(localFile)): Promise<string> {
    checkArtifactPath(path);
    if (!lstatSync(localFile).isFile()) throw new ConfigError('artifact', `${localFile} is not a file`);
    await this.client.putArtifactFile(this.full(path), localFile);
    return path;
  }

  /** Uploads bytes or text to `path`. */
  async uploadBytes(data: Buffer | string, path: string): Promise<string> {
    const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    await this.client.putArtifact(this.full(path), body, body.length);
    return path;
  }

  /**
   * Uploads every file under `localDir` (recursively; symbolic links are not followed) below `path` (default:
   * the root). Returns the artifact paths written.
   */
  async uploadDir(localDir: string, path?: string): Promise<string[]> {
    const prefix = path === undefined || path === '' ? '' : `${checkArtifactPath(path)}/`;
    const written: string[] = [];
    for (const rel of listLocalFiles(localDir)) {
      const dest = `${prefix}${rel}`;
      await this.client.putArtifactFile(this.full(dest), join(localDir, ...rel.split('/')));
      written.push(dest);
    }
    return written;
  }

  /** Direct children of `path` (default: the root); empty when the folder does not exist. */
  async list(path?: string): Promise<ArtifactEntry[]> {
    const base = path === undefined || path === '' ? '' : checkArtifactPath(path);
    const files = await this.client.listArtifactsAt(base ? `${this.root}/${base}` : this.root);
    return files.map((f) => {
      const name = checkArtifactPath(f.path, 'artifact name from the server');
      return { path: base ? `${base}/${name}` : name, isDir: f.isDir, fileSize: f.fileSize };
    });
  }

  /** Every file below `path` (default: the root), recursively. */
  async listFiles(path?: string): Promise<ArtifactEntry[]> {
    const out: ArtifactEntry[] = [];
    for (const entry of await this.list(path)) {
      if (entry.isDir) out.push(...(await this.listFiles(entry.path)));
      else out.push(entry);
    }
    return out;
  }

  /** The bytes of the file at `path`. */
  async read(path: string): Promise<Buffer> {
    try {
      return await this.client.getArtifact(this.full(path));
    } catch (err) {
      throw notFound(err, path);
    }
  }

  /** Downloads the file at `path` to `localFile` (parent folders are created). */
  async downloadFile(path: string, localFile: string): Promise<void> {
    mkdirSync(dirname(localFile), { recursive: true });
    try {
      await this.client.getArtifactToFile(this.full(path), localFile);
    } catch (err) {
      throw notFound(err, path);
    }
  }

  /**
   * Downloads the folder `path` (default: the whole root) into `localDir`, keeping the layout. Returns the
   * artifact paths downloaded.
   */
  async downloadDir(localDir: string, path?: string): Promise<string[]> {
    const base = path === undefined || path === '' ? '' : checkArtifactPath(path);
    const files = await this.listFiles(base || undefined);
    if (base && files.length === 0) throw new ConfigError('artifact path', `no artifacts under "${base}"`);
    for (const f of files) {
      const rel = base ? f.path.slice(base.length + 1) : f.path;
      await this.downloadFile(f.path, join(localDir, ...rel.split('/')));
    }
    return files.map((f) => f.path);
  }
}

function notFound(err: unknown, path: string): unknown {
  if (err instanceof MlflowApiError && err.status === 404)
    return new ConfigError('artifact path', `no artifact "${path}" in this run`);
  return err;
}

/** Files under `dir` as "/"-separated relative paths, sorted; symbolic links are skipped. */
export function listLocalFiles(dir: string): string[] {
  if (!lstatSync(dir).isDirectory()) throw new ConfigError('artifact', `${dir} is not a folder`);
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    const names = readdirSync(abs).sort();
    for (const name of names) {
      const stat = lstatSync(join(abs, name));
      const childRel = rel ? `${rel}/${name}` : name;
      if (stat.isDirectory()) walk(join(abs, name), childRel);
      else if (stat.isFile()) out.push(checkArtifactPath(childRel, `file name under ${dir}`));
    }
  };
  walk(dir, '');
  return out;
}

function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
