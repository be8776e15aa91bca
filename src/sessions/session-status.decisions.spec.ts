import { assertNever, Decision, onEvent, SessionEvent, SessionStatus, SessionView, statusForFinalResponse } from './session-status';

/**
 * The state machine's decision table, one row per branch of `onEvent`: the whole decision, with
 * its texts. The `why` of an ignore is what the logs say about a signal that changed nothing; a
 * refusal's message is the CAMARA error message the app gets; a reason is stored on the session
 * and sent in its events. A change to any of them is a change of behaviour and shows up here.
 */

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

describe('session status decision table', () => {
  it.each<[string, SessionView, SessionEvent, Decision]>([
    [
      'caller CANCEL while ringing',
      incoming('Ringing'),
      { kind: 'caller-cancelled' },
      { kind: 'go', next: 'SessionCancelled', report: true, actions: [], code: 487, reason: 'CANCEL from the caller' },
    ],
    ['caller CANCEL after the call connected', incoming('Connected'), { kind: 'caller-cancelled' }, { kind: 'ignore', why: 'CANCEL while Connected' }],
    ['ACK while connected', incoming('Connected', { answered: true }), { kind: 'ack', hasSdp: false }, { kind: 'ignore', why: 'ACK while Connected' }],
    ['ACK before the app answered', incoming('Ringing'), { kind: 'ack', hasSdp: false }, { kind: 'ignore', why: 'ACK while Ringing' }],
    [
      'ACK without the answer to our offer',
      incoming('Ringing', { answered: true, offerless: true }),
      { kind: 'ack', hasSdp: false },
      { kind: 'go', next: 'Failed', report: true, actions: [{ kind: 'hang-up' }], reason: 'the ACK carried no answer to our offer' },
    ],
    [
      'ACK with the answer to our offer',
      incoming('Ringing', { answered: true, offerless: true }),
      { kind: 'ack', hasSdp: true },
      { kind: 'go', next: 'Connected', report: true, actions: [], code: 200, reason: 'OK', storeAnswer: true },
    ],
    [
      'ACK for our 2xx',
      incoming('Ringing', { answered: true }),
      { kind: 'ack', hasSdp: true },
      { kind: 'go', next: 'Connected', report: true, actions: [], code: 200, reason: 'OK', storeAnswer: false },
    ],
    ['missing ACK while connected', incoming('Connected', { answered: true }), { kind: 'no-ack' }, { kind: 'ignore', why: 'missing ACK while Connected' }],
    ['missing ACK before the app answered', incoming('Ringing'), { kind: 'no-ack' }, { kind: 'ignore', why: 'missing ACK while Ringing' }],
    ['BYE while terminated', view('Terminated'), { kind: 'remote-bye' }, { kind: 'ignore', why: 'BYE while Terminated' }],
    ['BYE while ringing', view('Ringing'), { kind: 'remote-bye' }, { kind: 'go', next: 'Terminated', report: true, actions: [], reason: 'BYE from the far end' }],
    ['answer in an ACK while ringing', view('Ringing'), { kind: 'remote-answer', holds: false }, { kind: 'ignore', why: 'answer in an ACK while Ringing' }],
    ['holding answer in an ACK', view('Connected'), { kind: 'remote-answer', holds: true }, { kind: 'go', next: 'Hold', report: true, actions: [], reason: 'answer in the ACK', storeAnswer: true }],
    [
      'active answer in an ACK while held',
      view('Hold'),
      { kind: 'remote-answer', holds: false },
      { kind: 'go', next: 'Resume', report: true, actions: [], reason: 'answer in the ACK', storeAnswer: true },
    ],
    [
      'active answer in an ACK while connected',
      view('Connected'),
      { kind: 'remote-answer', holds: false },
      { kind: 'go', next: 'Connected', report: true, actions: [], reason: 'answer in the ACK', storeAnswer: true },
    ],
    ['ring timeout while connected', view('Connected'), { kind: 'ring-timeout' }, { kind: 'ignore', why: 'ring timeout while Connected' }],
    ['ring timeout after the app answered', incoming('Ringing', { answered: true }), { kind: 'ring-timeout' }, { kind: 'ignore', why: 'ring timeout after the app answered: the ACK is awaited' }],
    [
      'ring timeout of an incoming call',
      incoming('Ringing'),
      { kind: 'ring-timeout' },
      { kind: 'go', next: 'NoAnswer', report: true, actions: [{ kind: 'reject', cause: 'unavailable' }], code: 480, reason: 'the app did not answer within the ring timeout' },
    ],
    ['ring timeout after our CANCEL', view('Ringing', { cancelledBy: 'client' }), { kind: 'ring-timeout' }, { kind: 'ignore', why: 'already cancelled' }],
    [
      'ring timeout of an outgoing call',
      view('Ringing'),
      { kind: 'ring-timeout' },
      { kind: 'go', next: 'NoAnswer', report: true, actions: [{ kind: 'hang-up' }], reason: 'no answer within the ring timeout', cancelledBy: 'ring-timeout' },
    ],
    ['session timer expiry while ringing', view('Ringing'), { kind: 'session-expired', why: 'no refresh' }, { kind: 'ignore', why: 'session timer expiry while Ringing' }],
    [
      'session timer expiry while held',
      view('Hold'),
      { kind: 'session-expired', why: 'no refresh' },
      { kind: 'go', next: 'Terminated', report: true, actions: [{ kind: 'hang-up' }], reason: 'session timer expired: no refresh' },
    ],
    [
      '2xx for an ended session',
      view('NoAnswer'),
      { kind: 'answered', code: 200, reason: 'OK' },
      { kind: 'go', next: 'NoAnswer', report: false, actions: [{ kind: 'hang-up' }], reason: '2xx for an ended session' },
    ],
    ['final answer for an ended session', view('Busy'), { kind: 'rejected', code: 486, reason: 'Busy Here' }, { kind: 'ignore', why: 'session already Busy' }],
    ['late 180 after the 200', view('Connected'), { kind: 'provisional', code: 180, reason: 'Ringing', hasSdp: false }, { kind: 'ignore', why: 'late 180 while Connected' }],
    ['100 Trying', view('Initial'), { kind: 'provisional', code: 100, reason: 'Trying', hasSdp: false }, { kind: 'ignore', why: '100 Trying changes nothing' }],
    ['repeated 180', view('Ringing'), { kind: 'provisional', code: 180, reason: 'Ringing', hasSdp: false }, { kind: 'ignore', why: 'repeated 180' }],
    ['183 without SDP', view('Initial'), { kind: 'provisional', code: 183, reason: 'Session Progress', hasSdp: false }, { kind: 'ignore', why: '183 without session description changes nothing' }],
    [
      '183 with SDP',
      view('Ringing'),
      { kind: 'provisional', code: 183, reason: 'Session Progress', hasSdp: true },
      { kind: 'go', next: 'InProgress', report: true, actions: [], code: 183, reason: 'Session Progress', storeAnswer: true },
    ],
    [
      '182 with SDP',
      view('Initial'),
      { kind: 'provisional', code: 182, reason: 'Queued', hasSdp: true },
      { kind: 'go', next: 'Ringing', report: true, actions: [], code: 182, reason: 'Queued', storeAnswer: true },
    ],
    ['retransmitted 2xx', view('Connected'), { kind: 'answered', code: 200, reason: 'OK' }, { kind: 'ignore', why: 'retransmitted 200 while Connected' }],
    ['2xx while ringing', view('Ringing'), { kind: 'answered', code: 200, reason: 'OK' }, { kind: 'go', next: 'Connected', report: true, actions: [], code: 200, reason: 'OK', storeAnswer: true }],
    ['final answer after establishment', view('Hold'), { kind: 'rejected', code: 486, reason: 'Busy Here' }, { kind: 'ignore', why: 'final 486 after the session was established' }],
    ['Timer B while ringing', view('Ringing'), { kind: 'no-final-answer' }, { kind: 'go', next: 'Failed', report: true, actions: [], reason: 'no final answer (Timer B)' }],
    ['Timer B after establishment', view('Connected'), { kind: 'no-final-answer' }, { kind: 'ignore', why: 'timeout after establishment' }],
    ['transport failure', view('Initial'), { kind: 'transport-failure', message: 'ECONNREFUSED' }, { kind: 'go', next: 'Failed', report: true, actions: [], reason: 'ECONNREFUSED' }],
    ['far-end UPDATE on an ended session', view('Terminated'), { kind: 'remote-offer', method: 'UPDATE', offer: 'active' }, { kind: 'ignore', why: 'UPDATE while Terminated' }],
    [
      'far-end offer before we have SDP',
      view('Connected', { hasLocalSdp: false }),
      { kind: 'remote-offer', method: 'INVITE', offer: 'active' },
      { kind: 'go', next: 'Connected', report: false, actions: [{ kind: 'offer-pending' }] },
    ],
    [
      'far-end offerless re-INVITE',
      view('Connected'),
      { kind: 'remote-offer', method: 'INVITE', offer: 'none' },
      { kind: 'go', next: 'Connected', report: false, actions: [{ kind: 'accept-offer' }] },
    ],
    [
      'far-end re-INVITE that holds',
      view('Connected'),
      { kind: 'remote-offer', method: 'INVITE', offer: 'holds' },
      { kind: 'go', next: 'Hold', report: true, actions: [{ kind: 'accept-offer' }], reason: 'INVITE from the far end' },
    ],
    [
      'far-end UPDATE that resumes',
      view('Hold'),
      { kind: 'remote-offer', method: 'UPDATE', offer: 'active' },
      { kind: 'go', next: 'Resume', report: true, actions: [{ kind: 'accept-offer' }], reason: 'UPDATE from the far end' },
    ],
    [
      'far-end UPDATE with new active media',
      view('Connected'),
      { kind: 'remote-offer', method: 'UPDATE', offer: 'active' },
      { kind: 'go', next: 'Connected', report: true, actions: [{ kind: 'accept-offer' }], reason: 'UPDATE from the far end' },
    ],
    [
      'our hold accepted',
      view('Connected'),
      { kind: 'modified', change: 'hold', method: 'INVITE', outcome: 'accepted', code: 200, reason: 'OK' },
      { kind: 'go', next: 'Hold', report: true, actions: [], code: 200, reason: 'OK' },
    ],
    [
      'our resume accepted',
      view('Hold'),
      { kind: 'modified', change: 'resume', method: 'INVITE', outcome: 'accepted', code: 200, reason: 'OK' },
      { kind: 'go', next: 'Resume', report: true, actions: [], code: 200, reason: 'OK' },
    ],
    [
      'our new offer accepted',
      view('Hold'),
      { kind: 'modified', change: 'offer', method: 'UPDATE', outcome: 'accepted', code: 200, reason: 'OK' },
      { kind: 'go', next: 'Hold', report: true, actions: [], code: 200, reason: 'OK' },
    ],
    [
      'our UPDATE refused',
      view('Connected'),
      { kind: 'modified', change: 'offer', method: 'UPDATE', outcome: 'refused', code: 488, reason: 'Not Acceptable Here' },
      { kind: 'refuse', refusal: { error: 'BAD_GATEWAY', message: 'The far end refused the UPDATE (488 Not Acceptable Here); the session is unchanged.' } },
    ],
    [
      'our re-INVITE refused',
      view('Connected'),
      { kind: 'modified', change: 'hold', method: 'INVITE', outcome: 'refused', code: 488, reason: 'Not Acceptable Here' },
      { kind: 'refuse', refusal: { error: 'BAD_GATEWAY', message: 'The far end refused the re-INVITE (488 Not Acceptable Here); the session is unchanged.' } },
    ],
    [
      'our re-INVITE answered 481',
      view('Connected'),
      { kind: 'modified', change: 'hold', method: 'INVITE', outcome: 'gone', code: 481, reason: 'Call Does Not Exist' },
      {
        kind: 'go',
        next: 'Terminated',
        report: true,
        actions: [],
        code: 481,
        reason: 'Call Does Not Exist',
        fail: { error: 'INCOMPATIBLE_STATE', message: 'The far end no longer knows this call (481 Call Does Not Exist); it is Terminated.' },
      },
    ],
    ['DELETE of an ended session', view('Busy'), { kind: 'app-delete' }, { kind: 'go', next: 'Busy', report: false, actions: [], deleted: true }],
    [
      'DELETE of a ringing incoming call held here',
      incoming('Ringing'),
      { kind: 'app-delete' },
      { kind: 'go', next: 'Declined', report: true, actions: [{ kind: 'reject', cause: 'declined' }], code: 603, reason: 'declined by the application', deleted: true },
    ],
    [
      'DELETE of a ringing incoming call held elsewhere',
      incoming('Ringing', { holdsInvite: false }),
      { kind: 'app-delete' },
      { kind: 'go', next: 'Declined', report: true, actions: [], code: 603, reason: 'declined by the application', deleted: true },
    ],
    [
      'DELETE of a ringing outgoing call',
      view('Ringing'),
      { kind: 'app-delete' },
      { kind: 'go', next: 'SessionCancelled', report: true, actions: [{ kind: 'hang-up' }], reason: 'cancelled by the application', cancelledBy: 'client', deleted: true },
    ],
    [
      'DELETE of a held call',
      view('Hold'),
      { kind: 'app-delete' },
      { kind: 'go', next: 'Terminated', report: true, actions: [{ kind: 'hang-up' }], reason: 'ended by the application', deleted: true },
    ],
    [
      'PUT on an ended session',
      view('Terminated'),
      app('Connected'),
      { kind: 'refuse', refusal: { error: 'INCOMPATIBLE_STATE', message: 'The session is Terminated: its status cannot change any more.' } },
    ],
    ['PUT offer on an early outgoing dialog', view('Ringing'), app('InProgress', { hasOffer: true }), { kind: 'go', next: 'Ringing', report: false, actions: [{ kind: 'modify', change: 'offer' }] }],
    [
      'PUT offer before the far-end tag is known',
      view('Initial', { hasRemoteTag: false }),
      app('Connected', { hasOffer: true }),
      { kind: 'refuse', refusal: { error: 'INCOMPATIBLE_STATE', message: 'Status Connected cannot be set on an outgoing session in status Initial: the network decides.' } },
    ],
    [
      'PUT Hold on an outgoing ringing call',
      view('Ringing'),
      app('Hold'),
      { kind: 'refuse', refusal: { error: 'INCOMPATIBLE_STATE', message: 'Status Hold cannot be set on an outgoing session in status Ringing: the network decides.' } },
    ],
    [
      'PUT Hold without local SDP',
      view('Connected', { hasLocalSdp: false }),
      app('Hold'),
      { kind: 'refuse', refusal: { error: 'INCOMPATIBLE_STATE', message: 'The session has no local SDP to put on hold.' } },
    ],
    ['PUT Hold', view('Connected'), app('Hold'), { kind: 'go', next: 'Connected', report: false, actions: [{ kind: 'modify', change: 'hold' }] }],
    ['PUT Resume while connected', view('Connected'), app('Resume'), { kind: 'refuse', refusal: { error: 'INCOMPATIBLE_STATE', message: 'Only a held session can be resumed (it is Connected).' } }],
    [
      'PUT Resume without local SDP',
      view('Hold', { hasLocalSdp: false }),
      app('Resume'),
      { kind: 'refuse', refusal: { error: 'INCOMPATIBLE_STATE', message: 'Only a held session can be resumed (it is Hold).' } },
    ],
    ['PUT Resume while held', view('Hold'), app('Resume'), { kind: 'go', next: 'Hold', report: false, actions: [{ kind: 'modify', change: 'resume' }] }],
    ['PUT Connected with a new offer', view('Hold'), app('Connected', { hasOffer: true }), { kind: 'go', next: 'Hold', report: false, actions: [{ kind: 'modify', change: 'offer' }] }],
    ['PUT InProgress with a new location', view('Connected'), app('InProgress', { hasLocation: true }), { kind: 'go', next: 'Connected', report: false, actions: [{ kind: 'send-location' }] }],
    [
      'PUT Connected with nothing new',
      view('Connected'),
      app('Connected'),
      { kind: 'refuse', refusal: { error: 'INCOMPATIBLE_STATE', message: 'The session is already Connected; send a new offer to change its media.' } },
    ],
    [
      'PUT Ringing on an established call',
      view('Resume'),
      app('Ringing'),
      { kind: 'refuse', refusal: { error: 'INCOMPATIBLE_STATE', message: 'Status Ringing cannot be set on an established session.' } },
    ],
    [
      'answering an incoming call held elsewhere',
      incoming('Initial', { holdsInvite: false }),
      app('Ringing'),
      { kind: 'refuse', refusal: { error: 'INCOMPATIBLE_STATE', message: 'The incoming call is not held by this gateway instance any more (answered elsewhere or gone).' } },
    ],
    ['answering Ringing', incoming('Initial'), app('Ringing'), { kind: 'go', next: 'Ringing', report: true, actions: [{ kind: 'progress', progress: 'ringing' }], code: 180 }],
    [
      'answering Ringing with early media',
      incoming('Initial'),
      app('Ringing', { hasAnswer: true }),
      { kind: 'go', next: 'Ringing', report: true, actions: [{ kind: 'progress', progress: 'session-progress' }], code: 183 },
    ],
    [
      'answering InProgress',
      incoming('Ringing'),
      app('InProgress', { hasAnswer: true }),
      { kind: 'go', next: 'InProgress', report: true, actions: [{ kind: 'progress', progress: 'session-progress' }], code: 183 },
    ],
    [
      'answering an offerless call without an offer',
      incoming('Ringing', { offerless: true }),
      app('Connected', { hasAnswer: true }),
      { kind: 'refuse', refusal: { error: 'INVALID_ARGUMENT', message: 'offer.sdp is required to accept a call that came without an offer (status Connected); the answer comes in the ACK.' } },
    ],
    [
      'answering an offerless call with an offer',
      incoming('Ringing', { offerless: true }),
      app('Connected', { hasOffer: true }),
      { kind: 'go', next: 'Ringing', report: false, actions: [{ kind: 'answer' }] },
    ],
    [
      'answering without an answer',
      incoming('Ringing'),
      app('Connected', { hasOffer: true }),
      { kind: 'refuse', refusal: { error: 'INVALID_ARGUMENT', message: 'answer.sdp is required to accept a call (status Connected).' } },
    ],
    ['answering Connected', incoming('Ringing'), app('Connected', { hasAnswer: true }), { kind: 'go', next: 'Ringing', report: false, actions: [{ kind: 'answer' }] }],
    [
      'answering Declined',
      incoming('Initial'),
      app('Declined'),
      { kind: 'go', next: 'Declined', report: true, actions: [{ kind: 'reject', cause: 'declined' }], code: 603, reason: 'declined by the application' },
    ],
    [
      'answering Hold',
      incoming('Ringing'),
      app('Hold'),
      { kind: 'refuse', refusal: { error: 'INCOMPATIBLE_STATE', message: 'Status Hold does not answer an incoming call (use Ringing, InProgress, Connected or Declined).' } },
    ],
    [
      'answering InProgress again: no new event',
      incoming('InProgress'),
      app('InProgress', { hasAnswer: true }),
      { kind: 'go', next: 'InProgress', report: false, actions: [{ kind: 'progress', progress: 'session-progress' }], code: 183 },
    ],
    ['PUT Hold on an established incoming call', incoming('Connected'), app('Hold'), { kind: 'go', next: 'Connected', report: false, actions: [{ kind: 'modify', change: 'hold' }] }],
    [
      'PUT Connected with an offer on an early outgoing dialog (UPDATE)',
      view('Ringing'),
      app('Connected', { hasOffer: true }),
      { kind: 'go', next: 'Ringing', report: false, actions: [{ kind: 'modify', change: 'offer' }] },
    ],
    [
      'PUT Hold with an offer on an early outgoing dialog',
      view('Ringing'),
      app('Hold', { hasOffer: true }),
      { kind: 'refuse', refusal: { error: 'INCOMPATIBLE_STATE', message: 'Status Hold cannot be set on an outgoing session in status Ringing: the network decides.' } },
    ],
  ])('%s', (_label, session, event, decision) => {
    expect(onEvent(session, event)).toEqual(decision);
  });

  it.each<SessionStatus>(['Initial', 'Ringing', 'Proceeding', 'Waiting', 'Terminated', 'SessionCancelled', 'Declined', 'Failed', 'NoAnswer', 'NotReachable', 'Busy'])(
    'PUT %s on an established call is refused',
    (status) => {
      expect(onEvent(view('Connected'), app(status))).toEqual({
        kind: 'refuse',
        refusal: { error: 'INCOMPATIBLE_STATE', message: `Status ${status} cannot be set on an established session.` },
      });
    },
  );

  it.each<[number, 'client' | 'ring-timeout', SessionStatus]>([
    [486, 'client', 'Busy'],
    [486, 'ring-timeout', 'Busy'],
  ])('a %i that crosses our CANCEL (by the %s) keeps its own meaning: %s', (code, cancelledBy, status) => {
    expect(statusForFinalResponse(code, cancelledBy)).toBe(status);
  });

  it('assertNever names the value our own code should never have produced', () => {
    expect(() => assertNever('bogus' as never)).toThrow('unexpected value "bogus"');
  });
});
