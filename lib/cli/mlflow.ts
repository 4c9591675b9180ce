import type { Command } from 'commander';
import { startMlflowServer } from '../tracking/server';
import { action, note } from './output';

export function registerMlflowCommands(program: Command): void {
  const mlflow = program.command('mlflow').description('the local MLflow tracking server');
  mlflow
    .command('server')
    .description(
      'run the MLflow server from .venv (SQLite + artifacts under experiments/mlflow) until Ctrl-C',
    )
    .option('--port <n>', 'port', process.env.REELAB_MLFLOW_PORT ?? '5000')
    .option('--host <host>', 'interface to bind (loopback by default)', '127.0.0.1')
    .action(
      action(async (opts: { port: string; host: string }) => {
        note(`starting MLflow on ${opts.host}:${opts.port} …`);
        const server = await startMlflowServer({ port: Number(opts.port), host: opts.host });
        note(`MLflow UI and API: ${server.url}  (store: ${server.storeDir}); Ctrl-C stops it`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            note('stopping MLflow …');
            server.stop().then(resolve, resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }),
    );
}
