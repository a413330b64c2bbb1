import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { codeLoadingExecArgv } from './worker-thread.ts';

/**
 * Starts a child Node process on `entry`, a module of this project named by its compiled `.js` URL (beside the
 * caller in dist/), as startWorker starts a thread. Run from source (tests, `tsx`) the `.ts` module of the same name
 * is started, with tsx's loader added to the child's options unless the process already passes it on. The child
 * shares the process's stdin, stdout and stderr, has an IPC channel whose messages are structured clones (as a
 * worker's), and gets the process's Node options that load or instrument code (codeLoadingExecArgv).
 */
export function forkModule(entry: URL): ChildProcess {
  const execArgv = codeLoadingExecArgv();
  if (!import.meta.url.endsWith('.ts'))
    return fork(fileURLToPath(entry), [], { execArgv, serialization: 'advanced' });
  const source = fileURLToPath(entry.href.replace(/\.js$/, '.ts'));
  const withTsx = execArgv.some((arg) => /^(--import=)?tsx$/.test(arg))
    ? execArgv
    : [...execArgv, `--import=${import.meta.resolve('tsx')}`];
  return fork(source, [], { execArgv: withTsx, serialization: 'advanced' });
}
