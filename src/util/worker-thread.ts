import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on `entry`, a module of this project named by its compiled `.js` URL (beside the caller
 * in dist/). Run from source (tests, `tsx`) the `.ts` module of the same name is started instead; a worker does
 * not inherit tsx's loader on Node 20, so a two-line bootstrap registers it in the worker before importing the
 * entry. The worker gets the process's Node options that load or instrument code (codeLoadingExecArgv).
 */
export function startWorker(entry: URL, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(entry, { workerData, execArgv: codeLoadingExecArgv() });
  const source = entry.href.replace(/\.js$/, '.ts');
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData, execArgv: codeLoadingExecArgv() });
}

/**
 * The process's Node options that a worker or a child process of this project is started with: those that load or
 * instrument code (preloads, loaders, profilers, source maps, warnings). The rest stay out: Node refuses V8's
 * options in a worker's execArgv (`node --max-old-space-size=… bin/tickwire.js` made the database fail to open:
 * "Initiated Worker with invalid execArgv flags"), and `--input-type` for a worker started from a file (a process
 * started with `node --input-type=module -e …`); a child process is a program of its own, whose memory the
 * server's settings are not meant for. Leaving execArgv out would pass them all on, as inheritance does.
 */
export function codeLoadingExecArgv(): string[] {
  const args: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const name = arg.split('=', 1)[0] as string;
    if (!WORKER_OPTIONS.has(name)) continue;
    args.push(arg);
    // An option's value may be the next argument; a value of an option left out is left out with it.
    if (WORKER_OPTIONS.get(name) && !arg.includes('=') && i + 1 < argv.length) args.push(argv[++i] as string);
  }
  return args;
}

/** The options codeLoadingExecArgv passes on, each with whether it takes a value. */
const WORKER_OPTIONS = new Map<string, boolean>([
  ['--import', true],
  ['--require', true],
  ['-r', true],
  ['--loader', true],
  ['--experimental-loader', true],
  ['--conditions', true],
  ['-C', true],
  ['--enable-source-maps', false],
  ['--cpu-prof', false],
  ['--cpu-prof-dir', true],
  ['--cpu-prof-interval', true],
  ['--heap-prof', false],
  ['--heap-prof-dir', true],
  ['--heap-prof-interval', true],
  ['--no-warnings', false],
  ['--trace-warnings', false],
  ['--no-deprecation', false],
]);
