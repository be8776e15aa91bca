import { NetworkSignal, onNetworkSignal, SessionStatus, statusForFinalResponse } from './session-status';

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
    ])('maps %i to %s', (code, status) => {
      expect(statusForFinalResponse(code)).toBe(status);
      expect(onNetworkSignal('Ringing', { kind: 'rejected', code })).toEqual({ next: status, storeAnswer: false });
    });

    it('maps 487 after our CANCEL to SessionCancelled', () => {
      expect(onNetworkSignal('Ringing', { kind: 'rejected', code: 487, cancelledBy: 'client' })).toEqual({ next: 'SessionCancelled', storeAnswer: false });
    });

    it('maps 487 after the ring-timeout CANCEL to NoAnswer', () => {
      expect(onNetworkSignal('Ringing', { kind: 'rejected', code: 487, cancelledBy: 'ring-timeout' })).toEqual({ next: 'NoAnswer', storeAnswer: false });
    });
  });

  describe('provisional and success responses', () => {
    it.each<[SessionStatus, NetworkSignal, SessionStatus, boolean]>([
      ['Initial', { kind: 'provisional', code: 180, hasSdp: false }, 'Ringing', false],
      ['Initial', { kind: 'provisional', code: 181, hasSdp: false }, 'Ringing', false],
      ['Initial', { kind: 'provisional', code: 182, hasSdp: false }, 'Ringing', false],
      ['Initial', { kind: 'provisional', code: 183, hasSdp: true }, 'InProgress', true],
      ['Ringing', { kind: 'provisional', code: 183, hasSdp: true }, 'InProgress', true],
      ['Initial', { kind: 'answered', code: 200 }, 'Connected', true],
      ['Ringing', { kind: 'answered', code: 200 }, 'Connected', true],
      ['InProgress', { kind: 'answered', code: 202 }, 'Connected', true],
      ['Connected', { kind: 'remote-bye' }, 'Terminated', false],
      ['Ringing', { kind: 'transport' }, 'Failed', false],
      ['Ringing', { kind: 'timeout' }, 'Failed', false],
    ])('%s + %j → %s', (from, signal, to, storeAnswer) => {
      expect(onNetworkSignal(from, signal)).toEqual({ next: to, storeAnswer });
    });

    it.each<[SessionStatus, NetworkSignal]>([
      ['Initial', { kind: 'provisional', code: 100, hasSdp: false }],
      ['Ringing', { kind: 'provisional', code: 180, hasSdp: false }],
      ['Initial', { kind: 'provisional', code: 183, hasSdp: false }],
      ['Connected', { kind: 'provisional', code: 180, hasSdp: false }],
      ['Connected', { kind: 'answered', code: 200 }],
      ['Connected', { kind: 'rejected', code: 486 }],
      ['Terminated', { kind: 'answered', code: 200 }],
      ['Busy', { kind: 'provisional', code: 180, hasSdp: false }],
      ['SessionCancelled', { kind: 'rejected', code: 487, cancelledBy: 'client' }],
    ])('ignores %j while %s', (from, signal) => {
      expect(onNetworkSignal(from, signal)).toHaveProperty('ignore');
    });
  });
});
