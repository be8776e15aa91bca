import { OfferExchanges } from './offer-exchanges';

/** RFC 3261 §14.1 bookkeeping: offers in progress each way, per dialog. */
describe('OfferExchanges', () => {
  afterEach(() => jest.useRealTimers());
  const K = 'call-1|tag-1';

  it('counts our overlapping offers per dialog', () => {
    const x = new OfferExchanges();
    x.ourStarted(K);
    x.ourStarted(K);
    x.ourEnded(K);
    expect(x.isOffering(K)).toBe(true);
    expect(x.isOffering('other|tag')).toBe(false);
    x.ourEnded(K);
    expect(x.isOffering(K)).toBe(false);
  });

  it('settles at once without a far-end offer, else when the last open one closes', async () => {
    const x = new OfferExchanges();
    await expect(x.theirsSettled(K)).resolves.toBeUndefined();
    x.theirsOpened(K, 5);
    x.theirsOpened(K, 6);
    let settled = false;
    const waiting = x.theirsSettled(K).then(() => (settled = true));
    x.theirsClosed(K, 5);
    await Promise.resolve();
    expect(settled).toBe(false);
    x.theirsClosed(K, 99); // not an open one
    await Promise.resolve();
    expect(settled).toBe(false);
    x.theirsClosed(K, 6);
    await waiting;
    expect(x.hasTheirs(K)).toBe(false);
  });

  it('stops waiting after maxWaitMs whatever happened to the far-end offer', async () => {
    jest.useFakeTimers();
    const x = new OfferExchanges(3200);
    x.theirsOpened(K, 5);
    let settled = false;
    void x.theirsSettled(K).then(() => (settled = true));
    await jest.advanceTimersByTimeAsync(3199);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(settled).toBe(true);
  });

  it('gives the SDP we answered with only after a mark taken before it', () => {
    const x = new OfferExchanges();
    const before = x.mark(K);
    expect(x.sentSince(K, before)).toBeUndefined();
    x.answered(K, 'v=0 first');
    x.answered(K, 'v=0 second');
    expect(x.sentSince(K, before)).toBe('v=0 second');
    expect(x.sentSince(K, x.mark(K))).toBeUndefined();
  });

  it('forgets a dialog (BYE) and releases whoever waits on it; clear() does so for all', async () => {
    const x = new OfferExchanges();
    x.theirsOpened(K, 5);
    x.answered(K, 'v=0');
    const waiting = x.theirsSettled(K);
    x.forget(K);
    await waiting;
    expect(x.sentSince(K, 0)).toBeUndefined();
    x.theirsOpened('b|t', 1);
    x.ourStarted('b|t');
    const other = x.theirsSettled('b|t');
    x.clear();
    await other;
    expect(x.hasTheirs('b|t')).toBe(false);
    expect(x.isOffering('b|t')).toBe(false);
  });
});
