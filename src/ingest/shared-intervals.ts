import type { Clock, Timer } from '../util/clock.ts';

interface Member {
  readonly fn: () => void;
  ref: boolean;
}

interface Group {
  readonly members: Member[];
  timer: Timer | undefined;
}

/**
 * A clock whose intervals of one period share one underlying interval: every venue's ingest flushes every 100 ms
 * and closes bars every 250 ms, and with a timer each the process woke up for each of them separately (an idle
 * `tickwire all` woke about 400 times a second, each wake-up costing tens of µs of loop and timer work). Members
 * of a period run in the order they joined, each at the group's tick; a member that joins later first runs at the
 * group's next tick, less than one period after it joined. Timeouts and the time are the underlying clock's.
 */
export function sharedIntervals(clock: Clock): Clock {
  const groups = new Map<number, Group>();
  const handles = new Map<Timer, { readonly group: Group; readonly member: Member }>();

  const forget = (group: Group): void => {
    for (const [ms, g] of groups) if (g === group) groups.delete(ms);
  };
  const refresh = (group: Group): void => {
    // The shared timer keeps the process alive while any member does; once none does, it is unref'd and later
    // members start a group of their own (a Timer cannot be ref'd again).
    if (group.members.some((m) => m.ref)) return;
    group.timer?.unref();
    forget(group);
  };

  return {
    now: () => clock.now(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    setInterval(fn, ms) {
      let group = groups.get(ms);
      if (group === undefined) {
        const created: Group = { members: [], timer: undefined };
        created.timer = clock.setInterval(() => {
          // A copy: a member may stop itself or another one from its callback.
          for (const member of [...created.members]) if (created.members.includes(member)) member.fn();
        }, ms);
        groups.set(ms, created);
        group = created;
      }
      const member: Member = { fn, ref: true };
      group.members.push(member);
      const joined = group;
      const handle: Timer = {
        unref() {
          member.ref = false;
          refresh(joined);
        },
      };
      handles.set(handle, { group, member });
      return handle;
    },
    clearTimer(timer) {
      if (timer === undefined) return;
      const entry = handles.get(timer);
      if (entry === undefined) {
        clock.clearTimer(timer);
        return;
      }
      handles.delete(timer);
      const { group, member } = entry;
      group.members.splice(group.members.indexOf(member), 1);
      if (group.members.length > 0) return;
      clock.clearTimer(group.timer);
      forget(group);
    },
  };
}
