import { Action, Decision, onEvent, SessionEvent, SessionStatus, SessionView, SESSION_STATUSES, statusForFinalResponse } from './session-status';

const view = (status: SessionStatus, over: Partial<SessionView> = {}): SessionView => ({
  status,
  direction: 'outgoing',
  hasRemoteTag: true,
  hasLocalSdp: true,
  answered: false,
  holdsInvite: false,
  offerless: false,
  ...over,
});
const incoming = (status: SessionStatus, over: Partial<SessionView> = {}): SessionView => view(status, { direction: 'incoming', holdsInvite: true, ...over });
const app = (status: SessionStatus, over: Partial<Extract<SessionEvent, { kind: 'app-status' }>> = {}): SessionEvent => ({
  kind: 'app-status',
  status,
  hasOffer: false,
  hasAnswer: false,
  hasLocation: false,
  ...over,
});

/** `next` of a go decision, or the decision kind. */
const outcome = (d: Decision): string => (d.kind === 'go' ? d.next : d.kind === 'refuse' ? `refuse:${d.refusal.error}` : 'ignore');
const actions = (d: Decision): readonly Action[] => (d.kind === 'go' ? d.actions : []);

describe('session status state machine', () => {
  describe('final responses to an outgoing INVITE', () => {
    it.each<[number, SessionStatus]>([
      [486, 'Busy'],
      [600, 'Busy'],
      [603, 'Declined'],
      [404, 'NotReachable'],
      [410, 'NotReachable'],
      [480, 'NotReachable'],
      [484, 'NotReachable'],
      [604, 'NotReachable'],
      [408, 'NoAnswer'],
      [403, 'Failed'],
      [488, 'Failed'],
      [500, 'Failed'],
      [503, 'Failed'],
      [487, 'Failed'],
    ])('maps %i to %s, keeping the code and reason', (code, status) => {
      expect(statusForFinalResponse(code)).toBe(status);
      expect(onEvent(view('Ringing'), { kind: 'rejected', code, reason: 'why' })).toMatchObject({ kind: 'go', next: status, code, reason: 'why', report: true, actions: [] });
    });

    it.each<['client' | 'ring-timeout', SessionStatus]>([
      ['client', 'SessionCancelled'],
      ['ring-timeout', 'NoAnswer'],
    ])('maps 487 after a CANCEL by the %s to %s', (cancelledBy, status) => {
      expect(outcome(onEvent(view('Ringing', { cancelledBy }), { kind: 'rejected', code: 487, reason: 'Request Terminated' }))).toBe(status);
    });
  });

  describe('provisional and success responses', () => {
    it.each<[SessionStatus, SessionEvent, SessionStatus, boolean]>([
      ['Initial', { kind: 'provisional', code: 180, reason: 'Ringing', hasSdp: false }, 'Ringing', false],
      ['Initial', { kind: 'provisional', code: 181, reason: 'Forwarded', hasSdp: false }, 'Ringing', false],
      ['Initial', { kind: 'provisional', code: 182, reason: 'Queued', hasSdp: false }, 'Ringing', false],
      ['Initial', { kind: 'provisional', code: 180, reason: 'Ringing', hasSdp: true }, 'Ringing', true],
      ['Initial', { kind: 'provisional', code: 183, reason: 'Session Progress', hasSdp: true }, 'InProgress', true],
      ['Ringing', { kind: 'provisional', code: 183, reason: 'Session Progress', hasSdp: true }, 'InProgress', true],
      ['Initial', { kind: 'answered', code: 200, reason: 'OK' }, 'Connected', true],
      ['Ringing', { kind: 'answered', code: 200, reason: 'OK' }, 'Connected', true],
      ['InProgress', { kind: 'answered', code: 202, reason: 'Accepted' }, 'Connected', true],
    ])('%s + %j → %s', (from, event, to, storeAnswer) => {
      expect(onEvent(view(from), event)).toMatchObject({ kind: 'go', next: to, report: true, storeAnswer, actions: [] });
    });

    it.each<[SessionStatus, SessionEvent]>([
      ['Initial', { kind: 'provisional', code: 100, reason: 'Trying', hasSdp: false }],
      ['Ringing', { kind: 'provisional', code: 180, reason: 'Ringing', hasSdp: false }],
      ['Initial', { kind: 'provisional', code: 183, reason: 'Session Progress', hasSdp: false }],
      ['Connected', { kind: 'provisional', code: 180, reason: 'Ringing', hasSdp: false }],
      ['Connected', { kind: 'answered', code: 200, reason: 'OK' }],
      ['Connected', { kind: 'rejected', code: 486, reason: 'Busy Here' }],
      ['Connected', { kind: 'no-final-answer' }],
      ['Busy', { kind: 'provisional', code: 180, reason: 'Ringing', hasSdp: false }],
      ['SessionCancelled', { kind: 'rejected', code: 487, reason: 'Request Terminated' }],
      ['NoAnswer', { kind: 'no-final-answer' }],
    ])('ignores %s + %j', (from, event) => {
      expect(onEvent(view(from), event).kind).toBe('ignore');
    });

    it.each<SessionStatus>(['SessionCancelled', 'NoAnswer', 'Terminated'])('hangs up a 2xx that arrives while %s (RFC 3261 §15), status unchanged', (status) => {
      expect(onEvent(view(status), { kind: 'answered', code: 200, reason: 'OK' })).toMatchObject({ kind: 'go', next: status, report: false, actions: [{ kind: 'hang-up' }] });
    });

    it.each<[SessionEvent, SessionStatus]>([
      [{ kind: 'no-final-answer' }, 'Failed'],
      [{ kind: 'transport-failure', message: 'ECONNREFUSED' }, 'Failed'],
    ])('%j in setup → %s', (event, status) => {
      expect(outcome(onEvent(view('Ringing'), event))).toBe(status);
    });
  });

  describe('the far end in a dialog', () => {
    it.each<[SessionStatus, string]>([
      ['Connected', 'Terminated'],
      ['Hold', 'Terminated'],
      ['Ringing', 'Terminated'],
      ['Terminated', 'ignore'],
      ['Busy', 'ignore'],
    ])('BYE while %s → %s', (status, next) => {
      expect(outcome(onEvent(view(status), { kind: 'remote-bye' }))).toBe(next);
    });

    it.each<[SessionStatus, 'none' | 'holds' | 'active', SessionStatus, boolean]>([
      ['Connected', 'holds', 'Hold', true],
      ['Hold', 'active', 'Resume', true],
      ['Connected', 'active', 'Connected', true],
      ['Resume', 'holds', 'Hold', true],
      ['Connected', 'none', 'Connected', false],
    ])('an offer while %s that %s → %s (reported: %s), accepted', (status, offer, next, report) => {
      expect(onEvent(view(status), { kind: 'remote-offer', method: 'INVITE', offer })).toMatchObject({ kind: 'go', next, report, actions: [{ kind: 'accept-offer' }] });
    });

    it.each<[SessionStatus, boolean, string]>([
      ['Connected', true, 'Hold'],
      ['Hold', false, 'Resume'],
      ['Connected', false, 'Connected'],
      ['Ringing', false, 'ignore'],
      ['Terminated', false, 'ignore'],
    ])('the ACK answering our offer to an offerless re-INVITE while %s (holds: %s) → %s, reported with the answer', (status, holds, next) => {
      const d = onEvent(view(status), { kind: 'remote-answer', holds });
      expect(outcome(d)).toBe(next);
      if (d.kind === 'go') expect(d).toMatchObject({ report: true, storeAnswer: true });
    });

    it('answers an offer with 491 while we have no SDP of our own yet (RFC 3261 §14.2)', () => {
      expect(actions(onEvent(view('Connected', { hasLocalSdp: false }), { kind: 'remote-offer', method: 'UPDATE', offer: 'active' }))).toEqual([{ kind: 'offer-pending' }]);
    });
  });

  describe('incoming calls', () => {
    it.each<[SessionEvent, string, number | undefined, Action[]]>([
      [app('Ringing'), 'Ringing', 180, [{ kind: 'progress', progress: 'ringing' }]],
      [app('Ringing', { hasAnswer: true }), 'Ringing', 183, [{ kind: 'progress', progress: 'session-progress' }]],
      [app('InProgress'), 'InProgress', 183, [{ kind: 'progress', progress: 'session-progress' }]],
      [app('Connected', { hasAnswer: true }), 'Initial', undefined, [{ kind: 'answer' }]],
      [app('Declined'), 'Declined', 603, [{ kind: 'reject', cause: 'declined' }]],
      [{ kind: 'app-delete' }, 'Declined', 603, [{ kind: 'reject', cause: 'declined' }]],
      [{ kind: 'ring-timeout' }, 'NoAnswer', 480, [{ kind: 'reject', cause: 'unavailable' }]],
      [{ kind: 'caller-cancelled' }, 'SessionCancelled', 487, []],
    ])('Initial + %j → %s (%s)', (event, next, code, acts) => {
      const d = onEvent(incoming('Initial'), event);
      expect(outcome(d)).toBe(next);
      expect(d.kind === 'go' ? d.code : 'no decision').toBe(code);
      expect(actions(d)).toEqual(acts);
    });

    it.each<[SessionEvent, string]>([
      [app('Connected'), 'refuse:INVALID_ARGUMENT'],
      [app('Hold'), 'refuse:INCOMPATIBLE_STATE'],
      [app('Terminated'), 'refuse:INCOMPATIBLE_STATE'],
    ])('refuses %j before the answer: %s', (event, refusal) => {
      expect(outcome(onEvent(incoming('Initial'), event))).toBe(refusal);
    });

    it('refuses an answer on an instance that no longer holds the INVITE', () => {
      expect(outcome(onEvent(incoming('Ringing', { holdsInvite: false }), app('Connected', { hasAnswer: true })))).toBe('refuse:INCOMPATIBLE_STATE');
    });

    it('connects on the ACK only once the app answered', () => {
      expect(onEvent(incoming('Ringing', { answered: true }), { kind: 'ack', hasSdp: false })).toMatchObject({ kind: 'go', next: 'Connected', code: 200 });
      expect(onEvent(incoming('Ringing'), { kind: 'ack', hasSdp: false }).kind).toBe('ignore');
    });

    describe('offerless INVITE (RFC 3261 §13.2.1: our 200 offers, the ACK answers)', () => {
      it.each<[SessionEvent, string, Action[]]>([
        [app('Connected', { hasOffer: true }), 'Initial', [{ kind: 'answer' }]],
        [app('Connected', { hasAnswer: true }), 'refuse:INVALID_ARGUMENT', []],
        [app('Connected'), 'refuse:INVALID_ARGUMENT', []],
        [app('Ringing'), 'Ringing', [{ kind: 'progress', progress: 'ringing' }]],
      ])('Initial + %j → %s', (event, next, acts) => {
        const d = onEvent(incoming('Initial', { offerless: true }), event);
        expect(outcome(d)).toBe(next);
        expect(actions(d)).toEqual(acts);
      });

      it.each<[boolean, string, boolean | undefined, Action[]]>([
        [true, 'Connected', true, []],
        [false, 'Failed', undefined, [{ kind: 'hang-up' }]],
      ])('an ACK with SDP %s → %s (answer stored: %s)', (hasSdp, next, storeAnswer, acts) => {
        const d = onEvent(incoming('Ringing', { offerless: true, answered: true }), { kind: 'ack', hasSdp });
        expect(outcome(d)).toBe(next);
        expect(d.kind === 'go' && d.storeAnswer === true).toBe(storeAnswer === true);
        expect(actions(d)).toEqual(acts);
      });
    });

    it('fails the call when the 2xx is never ACKed (the SIP layer sent BYE)', () => {
      expect(onEvent(incoming('Ringing', { answered: true }), { kind: 'no-ack' })).toMatchObject({ kind: 'go', next: 'Failed', reason: 'no ACK for the 2xx', actions: [] });
      // the ring timeout must not turn an answered call awaiting its ACK into NoAnswer
      expect(onEvent(incoming('Ringing', { answered: true }), { kind: 'ring-timeout' }).kind).toBe('ignore');
    });
  });

  describe('app requests on outgoing and established calls', () => {
    it.each<[SessionView, SessionEvent, string, Action[]]>([
      [view('Connected'), app('Hold'), 'Connected', [{ kind: 'modify', change: 'hold' }]],
      [view('Hold'), app('Resume'), 'Hold', [{ kind: 'modify', change: 'resume' }]],
      [view('Connected'), app('Connected', { hasOffer: true }), 'Connected', [{ kind: 'modify', change: 'offer' }]],
      [view('Connected'), app('Connected', { hasLocation: true }), 'Connected', [{ kind: 'send-location' }]],
      [view('Ringing'), app('InProgress', { hasOffer: true }), 'Ringing', [{ kind: 'modify', change: 'offer' }]],
      [view('Connected'), app('Resume'), 'refuse:INCOMPATIBLE_STATE', []],
      [view('Connected', { hasLocalSdp: false }), app('Hold'), 'refuse:INCOMPATIBLE_STATE', []],
      [view('Connected'), app('Connected'), 'refuse:INCOMPATIBLE_STATE', []],
      [view('Connected'), app('Busy'), 'refuse:INCOMPATIBLE_STATE', []],
      [view('Ringing'), app('Connected', { hasAnswer: true }), 'refuse:INCOMPATIBLE_STATE', []],
      [view('Ringing', { hasRemoteTag: false }), app('InProgress', { hasOffer: true }), 'refuse:INCOMPATIBLE_STATE', []],
      [view('Terminated'), app('Hold'), 'refuse:INCOMPATIBLE_STATE', []],
    ])('%j + %j → %s', (v, event, next, acts) => {
      const d = onEvent(v, event);
      expect(outcome(d)).toBe(next);
      expect(actions(d)).toEqual(acts);
    });

    it.each<['hold' | 'resume' | 'offer', SessionStatus, SessionStatus]>([
      ['hold', 'Connected', 'Hold'],
      ['resume', 'Hold', 'Resume'],
      ['offer', 'Connected', 'Connected'],
    ])('an accepted %s while %s → %s, reported', (change, from, next) => {
      expect(onEvent(view(from), { kind: 'modified', change, method: 'INVITE', outcome: 'accepted', code: 200, reason: 'OK' })).toMatchObject({ kind: 'go', next, report: true });
    });

    it('leaves the session unchanged and answers 502 when the far end refuses the new media', () => {
      expect(outcome(onEvent(view('Connected'), { kind: 'modified', change: 'hold', method: 'INVITE', outcome: 'refused', code: 488, reason: 'Not Acceptable Here' }))).toBe('refuse:BAD_GATEWAY');
    });

    it('terminates the session and still fails the request when the dialog is gone (481/408, RFC 3261 §12.2.1.2)', () => {
      expect(onEvent(view('Connected'), { kind: 'modified', change: 'hold', method: 'INVITE', outcome: 'gone', code: 481, reason: 'Call Does Not Exist' })).toMatchObject({
        kind: 'go',
        next: 'Terminated',
        code: 481,
        fail: { error: 'INCOMPATIBLE_STATE' },
      });
    });

    it.each<[SessionView, string, Partial<Decision>]>([
      [view('Ringing'), 'SessionCancelled', { cancelledBy: 'client', deleted: true, actions: [{ kind: 'hang-up' }] }],
      [view('Connected'), 'Terminated', { deleted: true, actions: [{ kind: 'hang-up' }] }],
      [view('Busy'), 'Busy', { deleted: true, report: false, actions: [] }],
    ])('DELETE of %j → %s', (v, next, fields) => {
      expect(onEvent(v, { kind: 'app-delete' })).toMatchObject({ kind: 'go', next, ...fields });
    });
  });

  describe('the ring timeout', () => {
    it('reports NoAnswer at once and cancels the INVITE', () => {
      expect(onEvent(view('Ringing'), { kind: 'ring-timeout' })).toMatchObject({ kind: 'go', next: 'NoAnswer', cancelledBy: 'ring-timeout', actions: [{ kind: 'hang-up' }] });
    });

    it.each<SessionView>([view('Connected'), view('Busy'), view('Ringing', { cancelledBy: 'client' })])('changes nothing for %j', (v) => {
      expect(onEvent(v, { kind: 'ring-timeout' }).kind).toBe('ignore');
    });
  });

  describe('the session timer expires (RFC 4028 §10)', () => {
    it.each<[SessionView, string]>([
      [view('Connected'), 'an outgoing Connected call'],
      [view('Hold'), 'an outgoing call on Hold'],
      [view('Resume'), 'a resumed outgoing call'],
      [incoming('Connected', { holdsInvite: false, answered: true }), 'an incoming Connected call'],
      [incoming('Hold', { holdsInvite: false, answered: true }), 'an incoming call on Hold'],
    ])('ends %j (%s) Terminated with the reason, reported, and BYE', (v) => {
      expect(onEvent(v, { kind: 'session-expired', why: 'no refresh from the far end' })).toEqual({
        kind: 'go',
        next: 'Terminated',
        reason: 'session timer expired: no refresh from the far end',
        report: true,
        actions: [{ kind: 'hang-up' }],
      });
    });

    it.each<SessionView>([view('Ringing'), incoming('Ringing'), view('Terminated'), view('Failed'), incoming('Declined')])('changes nothing for %j (no established dialog)', (v) => {
      expect(onEvent(v, { kind: 'session-expired', why: 'x' }).kind).toBe('ignore');
    });
  });

  it('never lets a final status change again, whatever the event', () => {
    const events: SessionEvent[] = [
      { kind: 'provisional', code: 180, reason: 'Ringing', hasSdp: false },
      { kind: 'rejected', code: 486, reason: 'Busy Here' },
      { kind: 'no-final-answer' },
      { kind: 'caller-cancelled' },
      { kind: 'ack', hasSdp: true },
      { kind: 'no-ack' },
      { kind: 'remote-answer', holds: true },
      { kind: 'remote-bye' },
      { kind: 'remote-offer', method: 'INVITE', offer: 'holds' },
      { kind: 'ring-timeout' },
      { kind: 'session-expired', why: 'no refresh' },
      { kind: 'app-delete' },
    ];
    for (const status of SESSION_STATUSES.filter((s) => ['Terminated', 'Busy', 'Declined', 'Failed', 'NoAnswer', 'NotReachable', 'SessionCancelled'].includes(s))) {
      for (const e of events) {
        const d = onEvent(view(status, { answered: true }), e);
        if (d.kind === 'go') expect(d.next).toBe(status);
      }
    }
  });
});
