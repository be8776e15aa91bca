import { randomUUID } from 'node:crypto';
import {
  CallHandle,
  CallSignal,
  DialogReply,
  DialogState,
  LocationResult,
  LocationUpdate,
  MediaChange,
  ModifyResult,
  OutgoingCall,
  Progress,
  RegEventGrant,
  RegEventTarget,
  RegistrationGrant,
  RegistrationTarget,
  RejectCause,
  RemoteDialogRequest,
  SipFailure,
  SipGateway,
} from '../../src/sip/sip-gateway';

/** What a feature asked of the SIP side, for assertions. */
export type SipCall =
  | { op: 'register'; target: RegistrationTarget }
  | { op: 'unregister'; target: RegistrationTarget }
  | { op: 'subscribeRegEvent'; target: RegEventTarget }
  | { op: 'invite'; call: OutgoingCall; callId: string }
  | { op: 'progress'; key: string; progress: Progress }
  | { op: 'answer'; key: string; sdp: string }
  | { op: 'reject'; key: string; cause: RejectCause }
  | { op: 'hangUp'; dialog: DialogState }
  | { op: 'rejectStored'; dialog: DialogState; cause: RejectCause }
  | { op: 'takeOver'; dialog: DialogState }
  | { op: 'modify'; dialog: DialogState; change: MediaChange }
  | { op: 'refreshSession'; dialog: DialogState; localSdp: string | undefined }
  | { op: 'sendLocation'; dialog: DialogState; update: LocationUpdate };

/** How the feature answered an in-dialog request the test played. */
export type ReplyGiven = 'accept' | 'unknownDialog' | 'notAcceptable' | 'pending' | 'notAllowed' | 'unavailable';

/** In-process SipGateway for unit tests of features: records calls, lets the test play the network. */
export class FakeSipGateway extends SipGateway {
  readonly calls: SipCall[] = [];
  /** Next outcome of register(); default: granted as asked. */
  registerOutcome: (t: RegistrationTarget) => RegistrationGrant | SipFailure = (t) => ({
    binding: { callId: t.binding?.callId ?? randomUUID(), cseq: (t.binding?.cseq ?? 0) + 1, contact: `sip:${t.registrationId}@127.0.0.1:5070` },
    grantedExpiresS: t.expiresS,
  });
  /** Final response code of the far end to `modify` / `sendLocation`. */
  requestOutcome: (what: 'modify' | 'sendLocation' | 'refreshSession') => number = () => 200;
  /** When set, refreshSession throws it (timeout, transport). */
  refreshFailure: SipFailure | undefined = undefined;
  /** SDP the far end answers our new offers with. */
  requestAnswer: string | undefined = undefined;
  private readonly inviteListeners = new Map<string, (s: CallSignal) => void>();

  async register(target: RegistrationTarget): Promise<RegistrationGrant> {
    this.calls.push({ op: 'register', target });
    const r = this.registerOutcome(target);
    if (r instanceof SipFailure) throw r;
    return r;
  }

  async unregister(target: RegistrationTarget): Promise<void> {
    this.calls.push({ op: 'unregister', target });
  }

  /** Next outcome of subscribeRegEvent(); default: granted as asked, in a dialog of its own. */
  subscribeOutcome: (t: RegEventTarget) => RegEventGrant | SipFailure = (t) => ({
    dialog: t.dialog
      ? { ...t.dialog, localSeq: t.dialog.localSeq + 1 }
      : {
          callId: `reg-0123456789abcdef-${t.registrationId}`,
          role: 'uac',
          localTag: 'sub-lt',
          remoteTag: 'sub-rt',
          localUri: `sip:${t.phoneNumber}@ims.lab`,
          remoteUri: `sip:${t.phoneNumber}@ims.lab`,
          localSeq: 1,
          remoteTarget: 'sip:scscf@127.0.0.1:6060',
          routeSet: [],
          localContact: `sip:${t.registrationId}@127.0.0.1:5070`,
          state: 'confirmed',
        },
    expiresS: t.expiresS,
  });

  async subscribeRegEvent(target: RegEventTarget): Promise<RegEventGrant> {
    this.calls.push({ op: 'subscribeRegEvent', target });
    const r = this.subscribeOutcome(target);
    if (r instanceof SipFailure) throw r;
    return r;
  }

  async invite(call: OutgoingCall, onSignal: (signal: CallSignal) => void): Promise<CallHandle> {
    const callId = randomUUID();
    this.calls.push({ op: 'invite', call, callId });
    this.inviteListeners.set(callId, onSignal);
    const dialog: DialogState = {
      callId,
      role: 'uac',
      localTag: 'lt',
      localUri: call.from.uri,
      remoteUri: call.to.uri,
      localSeq: 1,
      remoteTarget: call.requestUri,
      routeSet: [],
      localContact: `sip:${call.contactUser}@127.0.0.1:5070`,
      state: 'early',
      invite: { requestUri: call.requestUri, branch: 'z9hG4bKtest', cseq: 1, via: 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKtest' },
    };
    return { callId, dialog };
  }

  rejectStored(dialog: DialogState, cause: RejectCause): boolean {
    this.calls.push({ op: 'rejectStored', dialog, cause });
    return dialog.inviteServer !== undefined;
  }

  /** The dialog moves to this (fake) instance's Contact, port 5071. */
  takeOver(dialog: DialogState): DialogState {
    this.calls.push({ op: 'takeOver', dialog });
    return { ...dialog, localContact: dialog.localContact.replace(/:\d+/, ':5071') };
  }

  /** Plays a response from the network to the INVITE with this Call-ID. */
  signal(callId: string, signal: CallSignal): void {
    const l = this.inviteListeners.get(callId);
    if (!l) throw new Error(`no INVITE with Call-ID ${callId}`);
    l(signal);
  }

  answeredDialog(callId: string): DialogState {
    const inv = this.calls.find((c) => c.op === 'invite' && c.callId === callId);
    if (!inv || inv.op !== 'invite') throw new Error('no such INVITE');
    return {
      callId,
      role: 'uac',
      localTag: 'lt',
      remoteTag: 'rt',
      localUri: inv.call.from.uri,
      remoteUri: inv.call.to.uri,
      localSeq: 1,
      remoteTarget: 'sip:uas@127.0.0.1:5090',
      routeSet: ['<sip:127.0.0.1:5060;lr>'],
      localContact: `sip:${inv.call.contactUser}@127.0.0.1:5070`,
      state: 'confirmed',
    };
  }

  /** Plays an in-dialog request from the network; resolves with how the feature answered it. */
  dialogRequest(req: RemoteDialogRequest): Promise<{ reply: ReplyGiven; media?: { sdp: string; dialog: DialogState }; retryAfterS?: number }> {
    return new Promise((resolve) => {
      const reply: DialogReply = {
        accept: (media) => resolve({ reply: 'accept', ...(media && { media }) }),
        unknownDialog: () => resolve({ reply: 'unknownDialog' }),
        notAcceptable: () => resolve({ reply: 'notAcceptable' }),
        pending: () => resolve({ reply: 'pending' }),
        notAllowed: () => resolve({ reply: 'notAllowed' }),
        unavailable: (retryAfterS) => resolve({ reply: 'unavailable', retryAfterS }),
      };
      this.emit('dialog.request', req, reply);
    });
  }

  progress(key: string, progress: Progress): void {
    this.calls.push({ op: 'progress', key, progress });
  }

  answer(key: string, sdp: string): void {
    this.calls.push({ op: 'answer', key, sdp });
  }

  reject(key: string, cause: RejectCause): void {
    this.calls.push({ op: 'reject', key, cause });
  }

  async hangUp(dialog: DialogState): Promise<void> {
    this.calls.push({ op: 'hangUp', dialog });
  }

  async modify(dialog: DialogState, change: MediaChange): Promise<ModifyResult> {
    this.calls.push({ op: 'modify', dialog, change });
    const code = this.requestOutcome('modify');
    const next = { ...dialog, localSeq: dialog.localSeq + 1 };
    const reason = code === 200 ? 'OK' : 'Nope';
    if (code === 481 || code === 408) return { outcome: 'gone', code, reason, dialog: next };
    if (code >= 300) return { outcome: 'refused', code, reason, dialog: next };
    const offer = change.kind === 'offer' ? change.sdp : `${change.localSdp}a=${change.kind === 'hold' ? 'sendonly' : 'sendrecv'}\r\n`;
    return { outcome: 'accepted', code, reason, offer, ...(this.requestAnswer !== undefined && { answer: this.requestAnswer }), dialog: next };
  }

  async refreshSession(dialog: DialogState, localSdp: string | undefined): Promise<ModifyResult> {
    this.calls.push({ op: 'refreshSession', dialog, localSdp });
    if (this.refreshFailure) throw this.refreshFailure;
    const code = this.requestOutcome('refreshSession');
    const next = { ...dialog, localSeq: dialog.localSeq + 1 };
    const reason = code === 200 ? 'OK' : 'Nope';
    if (code === 481 || code === 408) return { outcome: 'gone', code, reason, dialog: next };
    if (code >= 300) return { outcome: 'refused', code, reason, dialog: next };
    return { outcome: 'accepted', code, reason, offer: localSdp ?? '', dialog: next };
  }

  async sendLocation(dialog: DialogState, update: LocationUpdate): Promise<LocationResult> {
    this.calls.push({ op: 'sendLocation', dialog, update });
    const code = this.requestOutcome('sendLocation');
    return { delivered: code < 300, code, reason: code === 200 ? 'OK' : 'Nope', dialog: { ...dialog, localSeq: dialog.localSeq + 1 } };
  }

  async ping(): Promise<number> {
    return 200;
  }

  isListening(): boolean {
    return true;
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
}
