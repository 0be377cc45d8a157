/**
 * A bench's command line, the conventional way: `--help` (`-h`) prints its usage and exits 0; an unknown flag or a
 * bad value prints why and the usage on stderr and exits 2, without a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The flags' values, as parseArgs gives them for `options`. */
export function benchArgs<const O extends Options>(name: string, usage: string, options: O, argv = process.argv.slice(2)) {
  try {
    const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } } });
    if ((values as { help?: boolean }).help) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    return values as ReturnType<typeof parseArgs<{ options: O }>>['values'];
  } catch (err) {
    return usageExit(name, usage, (err as Error).message);
  }
}

/** Reports a bad flag or value and exits 2. */
export function usageExit(name: string, usage: string, why: string): never {
  process.stderr.write(`${name}: ${why}\n${usage}\n`);
  process.exit(2);
}
