import { readdirSync, readlinkSync } from 'node:fs';
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
    return lower(tid, steps);
  } catch {
    return undefined;
  }
}

/**
 * Lowers the scheduling priority of the whole process, each of its threads, by `steps` nice levels, up to 19, and
 * returns the main thread's new nice value (undefined where the system refuses; as lowerThreadPriority, the process
 * then runs as it was). Meant to be called first thing in a process's entry module.
 *
 * On Linux a nice value is a thread's, and a new thread takes the one of the thread that starts it: lowering the
 * main thread alone would leave V8's and Node's helper threads, already running when the entry module loads, at
 * the old level, and those do the process's garbage collection and compiling. So every thread listed in
 * `/proc/self/task` is lowered, the main thread first (threads it starts later inherit its level). Elsewhere
 * `setpriority` with the process's id sets the process.
 */
export function lowerProcessPriority(steps: number): number | undefined {
  try {
    if (process.platform !== 'linux') return lower(process.pid, steps);
    const main = lower(process.pid, steps);
    for (const tid of readdirSync('/proc/self/task').map(Number)) {
      if (tid === process.pid) continue;
      try {
        lower(tid, steps);
      } catch {
        // A thread that ended between the listing and the call.
      }
    }
    return main;
  } catch {
    return undefined;
  }
}

function lower(id: number, steps: number): number {
  const nice = Math.min(19, getPriority(id) + steps);
  setPriority(id, nice);
  return nice;
}
