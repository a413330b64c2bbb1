/**
 * The check `tickwire all` and `tickwire demo` make before they start anything: is the API's port free? Without it
 * a taken port was found only when the gateway listened, after the simulator, the bus and the history database
 * had started; stopping then meant waiting for the database to finish opening (creating a first embedded one takes
 * seconds, over a minute on a loaded machine) before it could be closed.
 */
import { createServer } from 'node:net';

/**
 * Resolves when `host`:`port` can be listened on (listens there as the gateway will, then lets go), rejects with
 * an error that names the address and the reason otherwise. Port 0 (any free port) is always free. Another
 * process can still take the port between this check and the gateway's listen; the gateway then reports it.
 */
export async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, host, () => resolve());
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const reason = code === 'EADDRINUSE' ? 'the port is in use' : (err as Error).message;
    throw new Error(
      `cannot listen on ${host}:${port}: ${reason} (${code}); stop what uses it or set PORT to a free port`,
      { cause: err },
    );
  } finally {
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}
