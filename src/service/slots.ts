/**
 * Counts free proving threads. An item takes a slot just before its proof and gives it back as soon
 * as the proof returns, so that the next item's proof starts while the last one's result is still
 * being committed, and a time limit starts with the proof, not in piscina's queue.
 */
export class Slots {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
