import { Command } from 'commander';
import { registerDataCommands } from './data';
import { registerDoctorCommand } from './doctor';
import { registerEvaluateCommand } from './evaluate';
import { registerMlflowCommands } from './mlflow';
import { registerQuickstartCommand } from './quickstart';

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
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
