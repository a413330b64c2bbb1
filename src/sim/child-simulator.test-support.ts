/**
 * Starts the demo's simulator as a child of this process (child-simulator.ts) and prints `pid <n> port <p>` (its
 * process id and port) once it listens; then waits, to be killed by the test that spawned it.
 */
import { startChildSimulator } from './child-simulator.ts';

const sim = await startChildSimulator(
  { symbols: ['BTC/USDT'], historyDays: 0, seed: 3 },
  { level: 'silent', format: 'json' },
  (err) => console.error(err),
);
process.stdout.write(`pid ${sim.pid} port ${sim.port}\n`);
setInterval(() => undefined, 60_000);
