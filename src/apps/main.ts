/**
 * The `tickwire` process: runs the CLI with this process's arguments and leaves with its exit code.
 * bin/tickwire.js runs the compiled form of this file (dist/apps/main.js); tests run it from source through tsx.
 */
// First: V8's settings apply before any other module creates anything.
import './v8-tuning.ts';
import { main } from './cli.ts';
import { exitWhenStdoutReaderLeaves } from './stdout-reader.ts';

exitWhenStdoutReaderLeaves();
process.exitCode = await main(process.argv.slice(2));
