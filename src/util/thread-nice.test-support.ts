import { readdirSync, readFileSync } from 'node:fs';

/** The nice value of thread `tid` of this process (Linux): field 19 of its stat, counted after the command name. */
export function threadNice(tid: string): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
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
