/**
 * `tickwire aggregate … | head` closes stdout early: that is the reader's choice, not an error, and the process ends
 * with 0. Log lines still queued for stderr are written on the way out where they can be; where stderr's reader is
 * gone too, they are dropped (the logger's writer gives up on a broken pipe rather than retrying it).
 */
export function exitWhenStdoutReaderLeaves(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
