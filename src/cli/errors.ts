// User-facing errors with stable codes and documented exit codes (docs/cli.md). A CliError is
// printed as one line; anything else reaching main() is our bug and is reported as such.

export const EXIT = {
  ok: 0,
  /** An unexpected internal error (a bug: please report it). */
  internal: 1,
  /** Bad command line: unknown command or option, missing value. */
  usage: 2,
  /** An input could not be read at all: missing file, not a capture, unreadable. */
  input: 3,
  /** Analysis finished and output was written, but an input was damaged (truncated, bad records, unsupported link type). */
  partial: 4,
  /** The output file or database could not be written or opened. */
  output: 5,
} as const;

export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, exitCode: number, message: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }
}
