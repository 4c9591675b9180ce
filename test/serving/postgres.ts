import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { type Component, component } from '../helpers/require';

/** Folder holding initdb/pg_ctl/postgres: PATH first, then Debian's /usr/lib/postgresql/<version>/bin. */
export function postgresBinDir(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    for (const v of readdirSync(root).sort().reverse()) {
      const dir = join(root, v, 'bin');
      if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
    }
  }
  return null;
}

/** The PostgreSQL server binaries as a test component (see test/helpers/require.ts). */
export function postgresComponent(): Component & { binDir: string } {
  const dir = postgresBinDir();
  const c = component(
    'postgres',
    dir !== null,
    'PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin: ' +
      'run scripts/setup-postgres.sh',
  );
  return { ...c, binDir: dir ?? '' };
}

export interface PostgresCluster {
  /** Connection URL over the cluster's unix socket (in its temp dir). */
  url: string;
  dir: string;
  stop(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A throw-away PostgreSQL cluster: initdb in a temp dir, started by pg_ctl on a free port with the unix socket in
 * that dir and TCP off. PostgreSQL refuses to run as root, so as root the commands run as the `postgres` user.
 */
export async function startPostgres(binDir: string): Promise<PostgresCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'reelab-pg-'));
  const asRoot = userInfo().uid === 0;
  let runAs: string[] = [];
  if (asRoot) {
    const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (pw.status !== 0)
      throw new Error('running as root and there is no "postgres" user to run PostgreSQL as');
    chownSync(
      dir,
      Number(pw.stdout.trim()),
      Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()),
    );
    runAs = ['runuser', '-u', 'postgres', '--'];
  }
  const run = (cmd: string, args: string[]) => {
    const full = [...runAs, join(binDir, cmd), ...args];
    execFileSync(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const port = await freePort();
  run('initdb', ['-D', data, '-U', 'reelab', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  try {
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      log,
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses= -c fsync=off`,
      'start',
    ]);
  } catch (err) {
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${(err as Error).message}\n${text}`);
  }
  return {
    url: `postgresql://reelab@/postgres?host=${encodeURIComponent(dir)}&port=${port}`,
    dir,
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
