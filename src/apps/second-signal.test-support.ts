/**
 * A process for shutdown-logs.integration.test.ts: Tickwire's JSON logger (asynchronous writes to stderr, the
 * recent-log ring beside it) and untilStopSignal. On the first SIGTERM it logs the given number of lines, more than
 * stderr's pipe takes at once, and says "logged" on stdout; "ready" on stdout once it listens. The second SIGTERM
 * is the test's to send.
 */
import { createLogger } from '../telemetry/logger.ts';
import { LogRing } from '../telemetry/log-ring.ts';
import { untilStopSignal } from './shutdown.ts';

const LINES = Number(process.argv[2]);

const logger = createLogger({ format: 'json', level: 'info', recent: new LogRing() });
void untilStopSignal({ timeoutMs: 60_000, logger }).then(() => {
  for (let i = 0; i < LINES; i++) logger.info({ i, pad: 'x'.repeat(200) }, 'stopping work');
  process.stdout.write('logged\n');
});
// Keeps the process alive until a signal ends it.
setInterval(() => {}, 60_000);
process.stdout.write('ready\n');
