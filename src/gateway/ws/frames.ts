/**
 * A connection's outgoing text messages of one turn of the event loop, framed into one buffer and written with
 * one `socket.write` (RFC 6455, 5.2: server frames are unmasked, FIN set, opcode 1).
 *
 * Through `ws.send`, every message cost a header buffer, a two-element list and two writes into the socket's
 * queue (each an entry object, then one iovec each in the turn's `writev`), besides its own buffer made from
 * the text. Here a message is kept as it came (a shared feed buffer, an acknowledgement's bytes, or a text,
 * encoded only here) until the turn's end, then all are copied behind their headers into one buffer: the bytes on the
 * wire are those `ws` writes for the same messages (a test compares them with `ws`'s own `Sender.frame`).
 */

/** The header's bytes of a server text frame whose payload has `payloadBytes` bytes. */
export function textFrameHeaderBytes(payloadBytes: number): number {
  return payloadBytes < 126 ? 2 : payloadBytes < 65_536 ? 4 : 10;
}

/** Messages framed in their order, as one buffer; `bytes` are their frames' bytes, headers included. */
export class TextFrames {
  private readonly messages: (Buffer | string)[] = [];
  private readonly payloads: number[] = [];
  private frameBytes = 0;

  /** Frame bytes held, headers included (0: none). */
  get bytes(): number {
    return this.frameBytes;
  }

  get count(): number {
    return this.messages.length;
  }

  /** Holds one message whose UTF-8 payload is `payloadBytes` long (`Buffer.byteLength` of a text). */
  add(message: Buffer | string, payloadBytes: number): void {
    this.messages.push(message);
    this.payloads.push(payloadBytes);
    this.frameBytes += textFrameHeaderBytes(payloadBytes) + payloadBytes;
  }

  /** The held messages' frames as one buffer, and nothing held after; null when none was. */
  take(): Buffer | null {
    const total = this.frameBytes;
    if (total === 0) return null;
    const out = Buffer.allocUnsafe(total);
    const messages = this.messages;
    const payloads = this.payloads;
    let at = 0;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const n = payloads[i];
      out[at] = 0x81;
      if (n < 126) {
        out[at + 1] = n;
        at += 2;
      } else if (n < 65_536) {
        out[at + 1] = 126;
        out.writeUInt16BE(n, at + 2);
        at += 4;
      } else {
        out[at + 1] = 127;
        out.writeUInt32BE(0, at + 2);
        out.writeUInt32BE(n, at + 6);
        at += 10;
      }
      const written = typeof m === 'string' ? out.write(m, at, n, 'utf8') : m.copy(out, at);
      if (written !== n) throw new Error(`a frame's payload took ${written} bytes, not ${n}`);
      at += n;
    }
    if (at !== total) throw new Error(`frames took ${at} bytes, not ${total}`);
    messages.length = 0;
    payloads.length = 0;
    this.frameBytes = 0;
    return out;
  }

  /** Forgets the held messages (the connection is gone). */
  clear(): void {
    this.messages.length = 0;
    this.payloads.length = 0;
    this.frameBytes = 0;
  }
}
