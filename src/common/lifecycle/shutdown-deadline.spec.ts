import { EventEmitter } from 'node:events';
import { armShutdownDeadline, withDeadline } from './shutdown-deadline';

describe('armShutdownDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('exits timeoutMs after SIGTERM, whatever is still pending', () => {
    const proc = new EventEmitter();
    const exit = jest.fn();
    armShutdownDeadline(proc, 8000, exit);
    jest.advanceTimersByTime(60_000);
    expect(exit).not.toHaveBeenCalled(); // no signal, no deadline
    proc.emit('SIGTERM');
    jest.advanceTimersByTime(7999);
    expect(exit).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(exit).toHaveBeenCalledTimes(1);
  });

  it('is disarmed by its disposer', () => {
    const proc = new EventEmitter();
    const exit = jest.fn();
    const dispose = armShutdownDeadline(proc, 1000, exit);
    proc.emit('SIGINT');
    dispose();
    jest.advanceTimersByTime(5000);
    expect(exit).not.toHaveBeenCalled();
  });
});

describe('withDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('gives up on work that never ends and says so', async () => {
    const late = jest.fn();
    const done = withDeadline(new Promise<void>(() => undefined), 4000, late);
    await jest.advanceTimersByTimeAsync(4000);
    await done;
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('returns as soon as the work ends', async () => {
    const late = jest.fn();
    await withDeadline(Promise.resolve(), 4000, late);
    jest.advanceTimersByTime(10_000);
    expect(late).not.toHaveBeenCalled();
  });
});
