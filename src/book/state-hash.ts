import { createHash, type Hash } from 'node:crypto';

/**
 * SHA-256 over a stream of numbers, each fed as its 8 IEEE-754 bytes. Two states that feed the same numbers in
 * the same order hash alike; feeding is canonical (no slot numbers, no capacities), so equal books agree
 * whatever their allocation history. Hashing reads no clock and does no I/O.
 */
export class StateHasher {
  private readonly chunk = new Float64Array(4096);
  private n = 0;
  private readonly hash: Hash = createHash('sha256');

  add(x: number): void {
    if (this.n === this.chunk.length) this.flush();
    this.chunk[this.n++] = x;
  }

  addAll(xs: ArrayLike<number>): void {
    for (let i = 0; i < xs.length; i++) this.add(xs[i]);
  }

  digestHex(): string {
    this.flush();
    return this.hash.digest('hex');
  }

  private flush(): void {
    if (this.n === 0) return;
    this.hash.update(new Uint8Array(this.chunk.buffer, 0, this.n * 8));
    this.n = 0;
  }
}
