/**
 * Resolves after the event loop has polled for I/O again: in the timers phase of its next iteration (a zero-delay
 * timer, due after 1 ms). A `setImmediate` queued from an I/O callback runs in the same iteration's check phase,
 * before the loop polls again, so work that waits for it still holds sockets and timers back; long start-up steps
 * yield with this between them, so that the API and the venues' sockets are served in between.
 */
export function nextLoopTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
