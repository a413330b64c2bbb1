import { readdirSync, readFileSync } from 'node:fs';

/**
 * The nice value of thread `tid` of process `pid` (Linux; this process by default): field 19 of its stat, counted
 * after the command name.
 */
export function threadNice(tid: string, pid: number | 'self' = 'self'): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** This process's main thread's nice value (Linux). */
export function mainThreadNice(): number {
  return threadNice(String(process.pid));
}

/** The ids of this process's threads running at nice `level` (Linux). */
export function threadsAtNice(level: number): string[] {
  return readdirSync('/proc/self/task').filter((tid) => threadNice(tid) === level);
}

/** Each thread of process `pid` with its nice value (Linux). */
export function threadNices(pid: number): Map<string, number> {
  return new Map(readdirSync(`/proc/${pid}/task`).map((tid) => [tid, threadNice(tid, pid)]));
}
