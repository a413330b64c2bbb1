import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Lowers the scheduling priority of the calling thread (not the process) by `steps` nice levels, up to 19, and
 * returns the thread's new nice value; undefined where threads cannot be told apart (not Linux) or the system
 * refuses (a sandbox without `setpriority`), in which case the thread keeps running as it was: a priority is a
 * preference to the scheduler, never a condition for the work to be done.
 *
 * On Linux every thread has its own nice value, set with `setpriority(PRIO_PROCESS, tid)`; Node's `os.setPriority`
 * passes its id straight to that call, and `/proc/thread-self` names the calling thread's id. Relative to the
 * thread's current value, so that a process started under `nice` keeps its own level below it.
 */
export function lowerThreadPriority(steps: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    const nice = Math.min(19, getPriority(tid) + steps);
    setPriority(tid, nice);
    return nice;
  } catch {
    return undefined;
  }
}
