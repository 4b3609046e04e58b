// `plantguard analyze <capture|dir|->... [--format table|json] [--out FILE] [--db FILE]`:
// read captures, map every device and conversation, print or write the model.

import { writeFileSync } from 'node:fs';
import { CaptureError } from '../capture/types.ts';
import type { AnalysisDocument } from '../model/types.ts';
import { analyzeCaptures } from '../pipeline/analyze.ts';
import { SqliteStore, StoreError } from '../store/sqlite.ts';
import { optFlag, optInt, optString, parseArgs, type OptionSpec } from './args.ts';
import { CliError, EXIT } from './errors.ts';
import { ProgressBar } from './progress.ts';
import { renderAnalysis, renderOperations } from './render.ts';
import { siteOperations } from '../model/operations.ts';

export const ANALYZE_HELP = `Usage: plantguard analyze <capture|directory|->... [options]

Reads pcap, pcapng and gzip-compressed captures (several files or directories are merged in
timestamp order; "-" reads standard input) and maps every device, conversation and industrial
operation.

Options:
  --format table|json   output format (default: table)
  --out FILE            write the output to FILE instead of standard output
  --db FILE             also merge the result into the SQLite store FILE (created if missing)
  --max-flows N         flow table bound (default 200000); the oldest flows are evicted past it
  --operations          list the site's operations by access class (program, control and write
                        first) instead of the inventory; with --format json: {"operations": [...]}
  --quiet               no progress bar and no warnings on standard error
  -h, --help            this help

Exit codes: 0 ok; 2 bad command line; 3 an input could not be read; 4 output written but an
input was damaged (truncated, bad records, unsupported link type); 5 output or database error.
`;

const SPECS: readonly OptionSpec[] = [
  { name: 'format', type: 'string', choices: ['table', 'json'] },
  { name: 'out', type: 'string' },
  { name: 'db', type: 'string' },
  { name: 'max-flows', type: 'string' },
  { name: 'operations', type: 'flag' },
  { name: 'quiet', short: 'q', type: 'flag' },
  { name: 'help', short: 'h', type: 'flag' },
];

export async function runAnalyze(argv: readonly string[]): Promise<number> {
  const p = parseArgs('analyze', argv, SPECS);
  if (optFlag(p, 'help')) {
    process.stdout.write(ANALYZE_HELP);
    return EXIT.ok;
  }
  if (p.positionals.length === 0)
    throw new CliError(
      'cli.missing_input',
      EXIT.usage,
      'analyze: name at least one capture file, directory or - (see: plantguard analyze --help)',
    );
  const format = optString(p, 'format') ?? 'table';
  const out = optString(p, 'out');
  const dbPath = optString(p, 'db');
  const quiet = optFlag(p, 'quiet');
  const maxFlows = optInt(p, 'analyze', 'max-flows', 16, 50_000_000);
  const warn = (m: string): void => {
    if (!quiet) process.stderr.write(`warning: ${m}\n`);
  };

  // Open the store first: a bad --db path should fail before minutes of analysis.
  let store: SqliteStore | null = null;
  if (dbPath !== undefined) {
    try {
      store = SqliteStore.open(dbPath);
    } catch (e) {
      if (e instanceof StoreError) throw new CliError(e.code, EXIT.output, e.message);
      throw e;
    }
  }
  // Progress only for a person watching: standard error on a terminal, and the output going to the
  // terminal too or to --out (never when standard output is piped or redirected).
  const watching = ProgressBar.enabled(process.stderr) && (out !== undefined || process.stdout.isTTY);
  const bar = !quiet && watching ? new ProgressBar(process.stderr) : null;
  let doc: AnalysisDocument;
  try {
    doc = await analyzeCaptures(p.positionals, {
      ...(maxFlows !== undefined ? { limits: { maxFlows } } : {}),
      onWarning: warn,
      ...(bar !== null ? { onProgress: (pr) => bar.update(pr) } : {}),
    });
  } catch (e) {
    store?.close();
    if (e instanceof CaptureError) throw new CliError(e.code, EXIT.input, e.message);
    throw e;
  } finally {
    bar?.done();
  }

  const operations = optFlag(p, 'operations');
  const text =
    format === 'json'
      ? JSON.stringify(
          operations ? { schemaVersion: doc.schemaVersion, operations: siteOperations(doc) } : doc,
          null,
          2,
        ) + '\n'
      : operations
        ? renderOperations(doc)
        : renderAnalysis(doc);
  if (out !== undefined) {
    try {
      writeFileSync(out, text);
    } catch (e) {
      store?.close();
      throw new CliError('output.write_failed', EXIT.output, `Cannot write ${out}: ${(e as Error).message}`);
    }
  } else process.stdout.write(text);

  if (store !== null) {
    try {
      const merged = store.merge(doc);
      const runs = store.captures().length;
      if (!quiet)
        process.stderr.write(
          `stored in ${dbPath}: ${merged.assets.length} assets, ${merged.communications.length} communications (${runs} ${runs === 1 ? 'analysis' : 'analyses'} stored)\n`,
        );
    } catch (e) {
      throw new CliError(
        'store.write_failed',
        EXIT.output,
        `Cannot store the analysis in ${dbPath}: ${(e as Error).message}`,
      );
    } finally {
      store.close();
    }
  }
  // Problems with the input were printed in the table; with JSON, say them on stderr too.
  const damaged =
    doc.capture.truncated || doc.capture.issues.length > 0 || doc.capture.linkTypes.some((l) => !l.supported);
  if (format === 'json' || out !== undefined) {
    for (const i of doc.capture.issues) warn(i.message);
    for (const l of doc.capture.linkTypes)
      if (!l.supported) warn(`${l.packets} packets with unsupported link type ${l.value} (${l.name}) were skipped`);
  }
  return damaged ? EXIT.partial : EXIT.ok;
}
