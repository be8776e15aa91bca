import type { MediaSession } from '../session-store';
import { sessionFields, sessionFromHash, sessionValues, storedCopy, WrittenFields } from './session-fields';

const session = (over: Partial<MediaSession> = {}): MediaSession => ({
  mediaSessionId: 'ms-1',
  direction: 'outgoing',
  phoneNumber: '+17086000001',
  originatorAddress: 'tel:+17086000001',
  receiverAddress: 'tel:+17086000002',
  callType: 'REGULAR',
  status: 'Initial',
  offer: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n',
  sequenceNumber: 0,
  createdAt: 1,
  updatedAt: 1,
  version: 0,
  dialog: {
    callId: 'c1',
    role: 'uac',
    localTag: 't1',
    localUri: 'sip:+17086000001@ims.example.com',
    remoteUri: 'sip:+17086000002@ims.example.com',
    localSeq: 1,
    remoteTarget: 'sip:+17086000002@ims.example.com',
    routeSet: ['<sip:pcscf.example.com;lr>'],
    localContact: '<sip:gw@127.0.0.1:5060>',
    state: 'early',
  },
  ...over,
});

/** `set` pairs as an object. */
const pairs = (set: string[]): Record<string, string> => Object.fromEntries(set.flatMap((x, i) => (i % 2 === 0 ? [[x, set[i + 1] as string]] : [])));

describe('session fields', () => {
  it('writes every defined property but version as JSON, and reads them back', () => {
    const s = session({ answer: undefined });
    const fields = pairs(sessionFields(sessionValues(s)));
    expect(Object.keys(fields)).not.toContain('version');
    expect(Object.keys(fields)).not.toContain('answer');
    expect(fields.dialog).toBe(JSON.stringify(s.dialog));
    expect(fields.offer).toBe(JSON.stringify(s.offer));
    expect(sessionFromHash({ ...fields, v: '3' })).toEqual({ ...s, answer: undefined, version: 3 });
    expect(sessionFromHash(fields)).toBeUndefined();
  });

  it('a stored copy equals the session at the new version and shares no object with it', () => {
    const s = session();
    const copy = storedCopy(sessionValues(s), 4);
    expect(copy).toEqual({ ...s, version: 4 });
    expect(copy.dialog).not.toBe(s.dialog);
    (copy.dialog as NonNullable<MediaSession['dialog']>).routeSet.push('<sip:other;lr>');
    expect(s.dialog?.routeSet).toHaveLength(1);
  });

  it('an update sends only the fields that changed, removed fields as deletions', () => {
    const fields = new WrittenFields();
    const s = session();
    fields.written(s.mediaSessionId, sessionValues(s), 1, false);
    const next = session({ status: 'Ringing', sequenceNumber: 1, answer: 'v=0\r\n', offer: s.offer, version: 1 });
    delete next.dialog;
    const c = fields.changes(next, 1);
    expect(c.replace).toBe(false);
    expect(pairs(c.set)).toEqual({ status: '"Ringing"', sequenceNumber: '1', answer: JSON.stringify('v=0\r\n') });
    expect(c.del).toEqual(['dialog']);
  });

  it('an object edited in place after a write is seen as changed (its JSON was kept, not the object)', () => {
    const fields = new WrittenFields();
    const s = session();
    fields.written(s.mediaSessionId, sessionValues(s), 1, false);
    const unchanged = fields.changes(s, 1);
    expect(unchanged.set).toEqual([]);
    (s.dialog as NonNullable<MediaSession['dialog']>).localSeq = 2;
    const c = fields.changes(s, 1);
    expect(pairs(c.set)).toEqual({ dialog: JSON.stringify(s.dialog) });
  });

  it('the values of an update are remembered for the next one', () => {
    const fields = new WrittenFields();
    const s = session();
    fields.written(s.mediaSessionId, sessionValues(s), 1, false);
    const ringing = session({ status: 'Ringing' });
    fields.written(s.mediaSessionId, fields.changes(ringing, 1).values, 2, false);
    expect(fields.changes(ringing, 2).set).toEqual([]);
    expect(pairs(fields.changes(session({ status: 'Connected' }), 2).set)).toEqual({ status: '"Connected"' });
  });

  it('writes the whole session when it does not know the expected version (other writer, conflict, final, forgotten)', () => {
    const fields = new WrittenFields();
    const s = session();
    expect(fields.changes(s, 1).replace).toBe(true);
    fields.written(s.mediaSessionId, sessionValues(s), 1, false);
    expect(fields.changes(s, 1).replace).toBe(false);
    expect(fields.changes(s, 2).replace).toBe(true);
    fields.forget(s.mediaSessionId);
    expect(fields.changes(s, 1).replace).toBe(true);
    fields.written(s.mediaSessionId, sessionValues(s), 1, true);
    const whole = fields.changes(s, 1);
    expect(whole.replace).toBe(true);
    expect(pairs(whole.set)).toEqual(pairs(sessionFields(sessionValues(s))));
  });

  it('is bounded: beyond `max` sessions the least recently written is forgotten (written whole next time); a final write forgets at once', () => {
    const fields = new WrittenFields(2);
    const a = session({ mediaSessionId: 'a' });
    const b = session({ mediaSessionId: 'b' });
    const c = session({ mediaSessionId: 'c' });
    fields.written('a', sessionValues(a), 1, false);
    fields.written('b', sessionValues(b), 1, false);
    fields.written('a', sessionValues(a), 2, false); // written again: now the newest
    fields.written('c', sessionValues(c), 1, false);
    expect(fields.size).toBe(2);
    expect([fields.changes(a, 2).replace, fields.changes(b, 1).replace, fields.changes(c, 1).replace]).toEqual([false, true, false]);
    fields.written('c', sessionValues(c), 2, true);
    expect(fields.size).toBe(1);
    expect(fields.changes(c, 2).replace).toBe(true);
  });

  it('a primitive equal to an object field’s former JSON is still a change', () => {
    const fields = new WrittenFields();
    const s = session({ locationDetails: { a: 1 } });
    fields.written(s.mediaSessionId, sessionValues(s), 1, false);
    const odd = { ...s, locationDetails: '{"a":1}' } as unknown as MediaSession;
    expect(pairs(fields.changes(odd, 1).set)).toEqual({ locationDetails: JSON.stringify('{"a":1}') });
  });
});
