/**
 * Unmasked WebSocket text frames (RFC 6455 §5.2), as a server sends them. A server's frames are not masked, so
 * the frame of one message is the same bytes for every client: it is built once per message (cached by the
 * payload Buffer, which a room sends to every member) and written as it is.
 */

/** Payloads from this size on are not copied into a frame: the header is written before them instead. */
export const COPY_LIMIT = 16 * 1024;

const frames = new WeakMap<Buffer, Buffer>();

/** The header of a final, unmasked text frame of `length` payload bytes. */
export function textFrameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 65_536) {
    const header = Buffer.allocUnsafe(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.allocUnsafe(10);
  header[0] = 0x81;
  header[1] = 127;
  header.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  header.writeUInt32BE(length >>> 0, 6);
  return header;
}

/**
 * The whole frame of a payload under COPY_LIMIT bytes: header and payload in one Buffer, built once per payload
 * Buffer (a string payload is framed anew each time).
 */
export function textFrame(payload: Buffer | string): Buffer {
  if (typeof payload === 'string') return frameOf(Buffer.from(payload));
  let frame = frames.get(payload);
  if (frame === undefined) {
    frame = frameOf(payload);
    frames.set(payload, frame);
  }
  return frame;
}

function frameOf(payload: Buffer): Buffer {
  const header = textFrameHeader(payload.length);
  const frame = Buffer.allocUnsafe(header.length + payload.length);
  header.copy(frame, 0);
  payload.copy(frame, header.length);
  return frame;
}
