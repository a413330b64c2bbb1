/**
 * A process for shutdown-logs.integration.test.ts: Tickwire's JSON logger (asynchronous writes to stderr, the
 * recent-log ring beside it) and untilStopSignal. On the first SIGTERM it logs the given number of lines, more than stderr takes
 * at once, and sends itself the second SIGTERM while they are still buffered; "ready" on stdout once it listens.
 */
import { createLogger } from '../telemetry/logger.ts';
import { LogRing } from '../telemetry/log-ring.ts';
import { untilStopSignal } from './shutdown.ts';

/** Lines to log between the two signals: the first argument. */
const LINES = Number(process.argv[2]);

const logger = createLogger({ format: 'json', level: 'info', recent: new LogRing() });
void untilStopSignal({ timeoutMs: 60_000, logger }).then(() => {
  for (let i = 0; i < LINES; i++) logger.info({ i, pad: 'x'.repeat(200) }, 'stopping work');
  process.kill(process.pid, 'SIGTERM');
});
// Keeps the process alive until a signal ends it.
setInterval(() => {}, 60_000);
process.stdout.write('ready\n');
