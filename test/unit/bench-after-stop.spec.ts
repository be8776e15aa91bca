import { afterStopFigures, afterStopOffsetsS, RSS_FLAT_TOLERANCE_PCT, type AfterStopSample } from '../../bench/lib/after-stop';

const at = (atS: number, rssMiB: number | null, heapMiB: number | null): AfterStopSample => ({ atS, rssMiB, heapMiB });

describe('bench: memory once the calls stop', () => {
  it('reads at +0 s, past Timer D (+35 s) and past the delivery and lease timers (+70 s); smoke at +0 and +2 s', () => {
    expect(afterStopOffsetsS(false)).toEqual([0, 35, 70]);
    expect(afterStopOffsetsS(true)).toEqual([0, 2]);
  });

  it('RSS is flat when the last reading is at most 2 % above the one at +0 s', () => {
    expect(RSS_FLAT_TOLERANCE_PCT).toBe(2);
    // +2 % exactly: flat
    expect(afterStopFigures([at(0, 400, 100), at(35, 405, 90), at(70, 408, 80)], 70)).toEqual({
      rssChangePct: 2,
      heapChangePct: -20,
      heapVsBeforeLoadPct: 14.3,
      rssFlat: true,
    });
    // falling RSS is flat too
    expect(afterStopFigures([at(0, 400, 100), at(70, 350, 100)], 100).rssFlat).toBe(true);
    // +2.5 %: growing
    expect(afterStopFigures([at(0, 400, 100), at(35, 404, 100), at(70, 410, 100)], 100)).toMatchObject({ rssChangePct: 2.5, rssFlat: false });
  });

  it('judges the last reading, not the highest one in between', () => {
    expect(afterStopFigures([at(0, 400, 100), at(35, 480, 100), at(70, 401, 100)], 100)).toMatchObject({ rssChangePct: 0.3, rssFlat: true });
    expect(afterStopFigures([at(0, 400, 100), at(35, 390, 100), at(70, 420, 100)], 100)).toMatchObject({ rssChangePct: 5, rssFlat: false });
  });

  it('compares the heap with the heap before the load (back to base: 0 % or below)', () => {
    expect(afterStopFigures([at(0, 400, 120), at(70, 400, 60)], 60).heapVsBeforeLoadPct).toBe(0);
    expect(afterStopFigures([at(0, 400, 120), at(70, 400, 57)], 60).heapVsBeforeLoadPct).toBe(-5);
    expect(afterStopFigures([at(0, 400, 120), at(70, 400, 90)], 60).heapVsBeforeLoadPct).toBe(50);
  });

  it('gives no verdict without two readings or a value, rather than a false one', () => {
    expect(afterStopFigures([], 60)).toEqual({ rssChangePct: null, heapChangePct: null, heapVsBeforeLoadPct: null, rssFlat: null });
    expect(afterStopFigures([at(0, 400, 100)], 60)).toEqual({ rssChangePct: null, heapChangePct: null, heapVsBeforeLoadPct: null, rssFlat: null });
    // the inspector gave no heap: RSS still judged, heap figures null
    expect(afterStopFigures([at(0, 400, null), at(70, 401, null)], 60)).toEqual({ rssChangePct: 0.3, heapChangePct: null, heapVsBeforeLoadPct: null, rssFlat: true });
    expect(afterStopFigures([at(0, 400, 100), at(70, 400, 100)], null).heapVsBeforeLoadPct).toBeNull();
    expect(afterStopFigures([at(0, null, 100), at(70, 400, 100)], 100).rssFlat).toBeNull();
  });
});
