/** Time source for stores and schedulers, so tests can move time. */
export abstract class Clock {
  abstract now(): number;
  static readonly system: Clock = new (class extends Clock {
    now(): number {
      return Date.now();
    }
  })();
}
