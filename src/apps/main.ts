/**
 * The `tickwire` process: runs the CLI with this process's arguments and leaves with its exit code.
 * bin/tickwire.js runs the compiled form of this file (dist/apps/main.js); tests run it from source through tsx.
 */
// First: V8's settings apply before any other module creates anything.
import './v8-tuning.ts';
import { main } from './cli.ts';

// `tickwire aggregate … | head` closes stdout early; that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.exitCode = await main(process.argv.slice(2));
