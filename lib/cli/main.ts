import { Command } from 'commander';
import { registerBatchCommand } from './batch';
import { registerDataCommands } from './data';
import { registerDoctorCommand } from './doctor';
import { registerEvaluateCommand } from './evaluate';
import { registerExperimentCommand } from './experiment';
import { registerMlflowCommands } from './mlflow';
import { registerQuickstartCommand } from './quickstart';
import { registerRecommendCommand } from './recommend';
import { registerReportCommand } from './report';
import { registerSearchCommand } from './search';
import { registerServeCommand } from './serve';
import { registerTrainCommand } from './train';

export function buildProgram(): Command {
  const program = new Command('reelab')
    .description('reelab: a TypeScript research workbench for movie recommendation')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  registerDataCommands(program);
  registerEvaluateCommand(program);
  registerDoctorCommand(program);
  registerMlflowCommands(program);
  registerQuickstartCommand(program);
  registerTrainCommand(program);
  registerRecommendCommand(program);
  registerServeCommand(program);
  registerBatchCommand(program);
  registerSearchCommand(program);
  registerExperimentCommand(program);
  registerReportCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
