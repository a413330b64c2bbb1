/**
 * A process for stdout-reader.integration.test.ts: Tickwire's JSON logger (asynchronous writes to stderr) and the
 * stdout rule of `tickwire`; every 10 ms it logs a few lines (the first is being written while the others wait in the
 * logger's buffer) and writes one to stdout, until that write finds its reader gone.
 */
import { createLogger } from '../telemetry/logger.ts';
import { exitWhenStdoutReaderLeaves } from './stdout-reader.ts';

exitWhenStdoutReaderLeaves();
const logger = createLogger({ format: 'json', level: 'info' });
setInterval(() => {
  for (let i = 0; i < 5; i++) logger.info({ i, pad: 'x'.repeat(200) }, 'working');
  process.stdout.write('a line of output\n');
}, 10);
