// The `plantguard` command: dispatches to one file per command and turns errors into one clear
// line and a documented exit code.

import { ANALYZE_HELP, runAnalyze } from './analyze.ts';
import { CliError, EXIT } from './errors.ts';
import { VERSION } from '../pipeline/analyze.ts';

const HELP = `PlantGuard ${VERSION} — Zero Trust for industrial networks

Usage: plantguard <command> [options]

Commands:
  analyze <capture|dir|->...   map devices, conversations and industrial operations from captures
  help [command]               show help
  version                      print the version

Run "plantguard <command> --help" for the options of a command.
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(rest[0] === 'analyze' ? ANALYZE_HELP : HELP);
        return EXIT.ok;
      case 'version':
      case '--version':
        process.stdout.write(`${VERSION}\n`);
        return EXIT.ok;
      case 'analyze':
        return await runAnalyze(rest);
      default:
        throw new CliError(
          'cli.unknown_command',
          EXIT.usage,
          `unknown command "${cmd}" (commands: analyze, help, version)`,
        );
    }
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`plantguard: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.ok;
    process.stderr.write(
      `plantguard: internal error: ${err.message}\nThis is a bug; please report it with the command line and this trace:\n${err.stack ?? ''}\n`,
    );
    return EXIT.internal;
  }
}
