// A small, strict command-line parser: known options only, values checked, clear errors.

import { CliError, EXIT } from './errors.ts';

export interface OptionSpec {
  readonly name: string;
  readonly short?: string;
  /** `flag` takes no value; `string` takes one; `list` may repeat. */
  readonly type: 'flag' | 'string' | 'list';
  readonly choices?: readonly string[];
}

export interface Parsed {
  readonly positionals: string[];
  readonly options: Map<string, string | string[] | true>;
}

export function parseArgs(command: string, argv: readonly string[], specs: readonly OptionSpec[]): Parsed {
  const positionals: string[] = [];
  const options = new Map<string, string | string[] | true>();
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short !== undefined).map((s) => [s.short!, s]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-' || !a.startsWith('-')) {
      positionals.push(a);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    } else {
      const s = byShort.get(a.slice(1));
      if (s === undefined)
        throw new CliError(
          'cli.unknown_option',
          EXIT.usage,
          `${command}: unknown option ${a} (see: plantguard ${command} --help)`,
        );
      name = s.name;
    }
    const spec = byName.get(name);
    if (spec === undefined)
      throw new CliError(
        'cli.unknown_option',
        EXIT.usage,
        `${command}: unknown option --${name} (see: plantguard ${command} --help)`,
      );
    if (spec.type === 'flag') {
      if (inline !== undefined)
        throw new CliError('cli.bad_option', EXIT.usage, `${command}: --${name} takes no value`);
      options.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new CliError('cli.missing_value', EXIT.usage, `${command}: --${name} needs a value`);
    if (spec.choices !== undefined && !spec.choices.includes(value)) {
      throw new CliError(
        'cli.bad_value',
        EXIT.usage,
        `${command}: --${name} must be one of ${spec.choices.join(', ')} (got "${value}")`,
      );
    }
    if (spec.type === 'list') {
      const prev = options.get(name);
      options.set(name, Array.isArray(prev) ? [...prev, value] : [value]);
    } else options.set(name, value);
  }
  return { positionals, options };
}

export function optString(p: Parsed, name: string): string | undefined {
  const v = p.options.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function optFlag(p: Parsed, name: string): boolean {
  return p.options.get(name) === true;
}

export function optInt(p: Parsed, command: string, name: string, min: number, max: number): number | undefined {
  const v = optString(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CliError(
      'cli.bad_value',
      EXIT.usage,
      `${command}: --${name} must be an integer from ${min} to ${max} (got "${v}")`,
    );
  }
  return n;
}
