import pino from 'pino';
import type { SipMessage } from 'sip';
import { loadConfig } from '../config/app-config';
import type { DialogState } from './sip-gateway';
import type { ClientHandlers, SendOptions, SentRequest } from './sip-stack';
import { SipStack } from './sip-stack';
import { SipUserAgent } from './sip-user-agent';
import { confirmedDialog } from './user-agents/__testing__/fake-transaction-layer';

const INVITE_DATA = { requestUri: 'sip:+17085854000@ims.lab', branch: 'z9hG4bKabc', cseq: 2, via: 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport' };

function setup() {
  const sent: Array<{ rq: SipMessage; h: ClientHandlers; opts?: SendOptions }> = [];
  jest.spyOn(SipStack.prototype, 'sendRequest').mockImplementation((rq: SipMessage, h: ClientHandlers, opts?: SendOptions): SentRequest => {
    sent.push({ rq, h, ...(opts && { opts }) });
    return { branch: 'z9hG4bKx', via: 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx' };
  });
  const logger = pino({ level: 'silent' });
  const warn = jest.spyOn(logger, 'warn');
  const config = loadConfig({ SIP_OUTBOUND_PROXY: 'sip:127.0.0.1:5060', SIP_DOMAIN: 'ims.lab', SIP_LISTEN_ADDRESS: '127.0.0.1', SIP_LISTEN_PORT: '5070' });
  return { ua: new SipUserAgent(config, logger), sent, warn };
}

describe(SipUserAgent.name, () => {
  afterEach(() => jest.restoreAllMocks());

  describe('hangUp', () => {
    it('CANCELs our pending INVITE from the stored dialog, repeating its Via and CSeq (RFC 3261 §9.1)', async () => {
      const { ua, sent } = setup();
      await ua.hangUp(confirmedDialog({ role: 'uac', state: 'early', remoteTag: undefined, invite: INVITE_DATA }));
      expect(sent).toHaveLength(1);
      expect(sent[0]?.rq).toMatchObject({ method: 'CANCEL', uri: INVITE_DATA.requestUri, headers: { cseq: { seq: 2, method: 'CANCEL' } } });
      expect(sent[0]?.rq.headers.to?.params).toEqual({});
      expect(sent[0]?.opts?.via).toBe(INVITE_DATA.via);
    });

    it.each<[string, Partial<DialogState>]>([
      ['a confirmed dialog we called from', { role: 'uac', state: 'confirmed' }],
      ['a confirmed dialog we answered', { role: 'uas', state: 'confirmed' }],
      ['an early dialog without the INVITE data', { role: 'uac', state: 'early' }],
      ['an early dialog of an incoming call', { role: 'uas', state: 'early', invite: INVITE_DATA }],
    ])('sends BYE for %s (RFC 3261 §15)', async (_what, overrides) => {
      const { ua, sent } = setup();
      const done = ua.hangUp(confirmedDialog({ localSeq: 4, ...overrides }));
      expect(sent[0]?.rq).toMatchObject({ method: 'BYE', headers: { cseq: { seq: 5, method: 'BYE' } } });
      sent[0]?.h.onResponse({ status: 200, reason: 'OK', headers: { cseq: { seq: 5, method: 'BYE' } } });
      await expect(done).resolves.toBeUndefined();
    });

    it('logs a BYE that times out instead of throwing', async () => {
      const { ua, sent, warn } = setup();
      const done = ua.hangUp(confirmedDialog());
      sent[0]?.h.onTimeout();
      await expect(done).resolves.toBeUndefined();
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.objectContaining({ kind: 'timeout' }) as unknown }), 'hang-up failed');
    });

    it('logs a CANCEL that cannot be built instead of throwing', async () => {
      const { ua, sent, warn } = setup();
      await expect(ua.hangUp(confirmedDialog({ state: 'early', invite: { ...INVITE_DATA, via: 'SIP/2.0/UDP x\r\nVia: evil' } }))).resolves.toBeUndefined();
      expect(sent).toHaveLength(0);
      expect(warn).toHaveBeenCalledWith(expect.anything(), 'hang-up failed');
    });
  });

  describe('contactFor', () => {
    it('refuses a user part that could inject into the Contact', () => {
      const { ua } = setup();
      expect(ua.contactFor('reg-1')).toBe('sip:reg-1@127.0.0.1:5070');
      expect(() => ua.contactFor('a>\r\nVia: x')).toThrow(/user part/);
    });
  });
});
