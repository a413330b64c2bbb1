import type { WebSocket } from 'ws';
import type { FaultAction } from '../faults.ts';

/**
 * A fault on a Bitget socket, public or private alike: a recycle is Bitget's plain close (1000, no notice); the
 * malformed-frames fault sends half a JSON frame and a frame that is no JSON at all, alternately.
 */
export function applyBitgetSocketFault(
  connections: Iterable<{ readonly socket: WebSocket }>,
  action: FaultAction,
): void {
  for (const conn of [...connections]) {
    if (action.kind === 'recycle') {
      conn.socket.close(1000, '');
      continue;
    }
    if (conn.socket.readyState !== conn.socket.OPEN) continue;
    for (let i = 0; i < action.count; i++)
      conn.socket.send(i % 2 === 0 ? '{"action":"update","arg":' : '\u0000garbage');
  }
}
