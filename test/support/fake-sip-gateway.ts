import { randomUUID } from 'node:crypto';
import {
  CallHandle,
  CallSignal,
  DialogState,
  InDialogResult,
  OutgoingCall,
  RegistrationGrant,
  RegistrationTarget,
  SipBody,
  SipFailure,
  SipGateway,
} from '../../src/sip/sip-gateway';

/** What a feature asked of the SIP side, for assertions. */
export type SipCall =
  | { op: 'register'; target: RegistrationTarget }
  | { op: 'unregister'; target: RegistrationTarget }
  | { op: 'invite'; call: OutgoingCall; callId: string }
  | { op: 'cancel'; dialog: DialogState }
  | { op: 'request'; method: string; dialog: DialogState; body?: SipBody }
  | { op: 'respond'; key: string; code: number; reason: string; body?: SipBody };

/** In-process SipGateway for unit tests of features: records calls, lets the test play the network. */
export class FakeSipGateway extends SipGateway {
  readonly calls: SipCall[] = [];
  /** Next outcome of register(); default: granted as asked. */
  registerOutcome: (t: RegistrationTarget) => RegistrationGrant | SipFailure = (t) => ({
    binding: { callId: t.binding?.callId ?? randomUUID(), cseq: (t.binding?.cseq ?? 0) + 1, contact: `sip:${t.registrationId}@127.0.0.1:5070` },
    grantedExpiresS: t.expiresS,
  });
  requestOutcome: (method: string) => number = () => 200;
  /** SDP the far end answers in-dialog offers with. */
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

  async cancel(dialog: DialogState): Promise<void> {
    this.calls.push({ op: 'cancel', dialog });
  }

  async request(dialog: DialogState, method: string, opts?: { body?: SipBody }): Promise<InDialogResult> {
    this.calls.push({ op: 'request', method, dialog, ...(opts?.body && { body: opts.body }) });
    const code = this.requestOutcome(method);
    return { code, reason: code === 200 ? 'OK' : 'Nope', ...(this.requestAnswer && code < 300 && { sdp: this.requestAnswer }), dialog: { ...dialog, localSeq: dialog.localSeq + 1 } };
  }

  respond(key: string, code: number, reason: string, opts?: { body?: SipBody }): void {
    this.calls.push({ op: 'respond', key, code, reason, ...(opts?.body && { body: opts.body }) });
  }

  async ping(): Promise<number> {
    return 200;
  }

  isListening(): boolean {
    return true;
  }

  ops(): string[] {
    return this.calls.map((c) => (c.op === 'request' ? `request:${c.method}` : c.op));
  }
}
