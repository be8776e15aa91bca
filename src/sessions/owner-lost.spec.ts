import { Action, Decision, onEvent, SessionStatus, SessionView } from './session-status';

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
const lost = (s: SessionView): Decision => onEvent(s, { kind: 'owner-lost', why: 'gateway instance gw-1 was lost during call setup' });
const actions = (d: Decision): readonly Action[] => (d.kind === 'go' ? d.actions : []);

describe('owner-lost: the instance holding a session is gone or draining', () => {
  it.each<SessionStatus>(['Initial', 'Ringing', 'InProgress'])('an outgoing call in setup (%s) is CANCELled and Failed, with the reason, reported', (status) => {
    const d = lost(view(status));
    expect(d).toMatchObject({ kind: 'go', next: 'Failed', reason: 'gateway instance gw-1 was lost during call setup', report: true });
    expect(actions(d)).toEqual([{ kind: 'hang-up' }]);
  });

  it('an incoming INVITE this instance still holds (drain) is refused 480 and Failed', () => {
    const d = lost(view('Ringing', { direction: 'incoming', holdsInvite: true }));
    expect(d).toMatchObject({ kind: 'go', next: 'Failed', report: true });
    expect(actions(d)).toEqual([{ kind: 'reject', cause: 'unavailable' }]);
  });

  it('an incoming INVITE held by the lost instance is refused 480 all the same (the adopter answers it from the stored request) and Failed', () => {
    const d = lost(view('Initial', { direction: 'incoming', holdsInvite: false }));
    expect(d).toMatchObject({ kind: 'go', next: 'Failed', report: true });
    expect(actions(d)).toEqual([{ kind: 'reject', cause: 'unavailable' }]);
  });

  it.each([true, false])('an incoming call answered (200 sent, ACK awaited; held here: %s) is Failed without a second final response', (holdsInvite) => {
    const d = lost(view('Ringing', { direction: 'incoming', holdsInvite, answered: true }));
    expect(d).toMatchObject({ kind: 'go', next: 'Failed' });
    expect(actions(d)).toEqual([]);
  });

  it.each<[SessionStatus, 'outgoing' | 'incoming']>([
    ['Connected', 'outgoing'],
    ['Hold', 'incoming'],
    ['Resume', 'outgoing'],
  ])('an established call (%s, %s) goes on unchanged and unreported: only its owner changes', (status, direction) => {
    const d = lost(view(status, { direction }));
    expect(d).toEqual({ kind: 'go', next: status, report: false, actions: [] });
  });

  it.each<SessionStatus>(['Terminated', 'Failed', 'SessionCancelled', 'Declined'])('an ended session (%s) is left alone', (status) => {
    expect(lost(view(status)).kind).toBe('ignore');
  });
});
