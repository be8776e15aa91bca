import type { IncomingCall } from '../../sip/sip-gateway';
import pino from 'pino';
import { loadConfig } from '../../config/app-config';
import { Secret } from '../../config/secret';
import type { Principal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { MemoryRegistrationStore } from '../../store/memory/memory-registration.store';
import { MemorySessionStore } from '../../store/memory/memory-session.store';
import { SipCredentialsProvider } from '../../sip/sip-credentials.provider';
import { RegistrationsService } from '../../registrations/registrations.service';
import { FakeSipGateway } from '../../../test/support/fake-sip-gateway';
import { RecordingEventPublisher } from '../../../test/support/recording-event-publisher';
import { SessionsService } from '../sessions.service';
import { SessionTransitions } from '../session-transitions';
import { OutgoingCalls } from '../outgoing-calls';
import { IncomingCalls } from '../incoming-calls';
import { SessionQuota } from '../session-quota';
import { SessionUpdates } from '../session-updates';
import type { CallTelemetry } from '../call-telemetry';
import type { MediaSessionCreate } from '../dto/media-session.dto';

export const ALICE = '+17085852753';
export const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
export const principal = (phone = ALICE): Principal => ({ subject: 'alice', phoneNumber: phone, scopes: new Set() });
export const flush = () => new Promise((r) => setImmediate(r));

/** SessionsService wired to in-memory stores, a FakeSipGateway and a recording event publisher. */
export async function setup(env: Record<string, string> = {}, telemetry?: CallTelemetry) {
  const config = loadConfig({ SIP_RING_TIMEOUT_MS: '5000', ...env });
  const sip = new FakeSipGateway();
  const events = new RecordingEventPublisher();
  const creds = SipCredentialsProvider.of(new Map([[ALICE, { username: ALICE, password: new Secret('pw') }]]));
  const logger = pino({ level: 'silent' });
  const registrations = new RegistrationsService(config, new MemoryRegistrationStore(), sip, creds, events, Clock.system, logger);
  const store = new MemorySessionStore();
  const transitions = new SessionTransitions(config, store, events, Clock.system, logger, telemetry);
  const quota = new SessionQuota(config);
  const incomingCalls = new IncomingCalls(config, transitions, sip, registrations, events, Clock.system, logger, quota);
  const sessions = new SessionsService(
    sip,
    transitions,
    new OutgoingCalls(config, transitions, sip, creds, registrations, Clock.system, logger, quota),
    incomingCalls,
    new SessionUpdates(config, transitions, incomingCalls, sip, creds, Clock.system),
    logger,
  );
  sessions.onModuleInit();
  const reg = await registrations.create(principal(), { deviceId: '6f1c2b7e-2d7a-4c2e-9a4b-0c6d2f3e4a5b' });
  const body = (over: Partial<MediaSessionCreate> = {}): MediaSessionCreate => ({
    originatorAddress: `tel:${ALICE}`,
    originatorName: 'Alice',
    receiverAddress: 'tel:+15550009999',
    receiverName: 'Bob',
    offer: { sdp: SDP },
    ...over,
  });
  const lastInvite = () => {
    const c = [...sip.calls].reverse().find((x) => x.op === 'invite');
    if (!c || c.op !== 'invite') throw new Error('no INVITE sent');
    return c;
  };
  return { config, sip, events, sessions, store, reg, body, lastInvite, registrations, transitions };
}

/** An INVITE from Carol to Alice's registration as the SIP port hands it over (`sdp: undefined`: offerless). */
export function incomingCall(registrationId: string, opts: { sdp?: string | undefined; key?: string } = {}): IncomingCall {
  const key = opts.key ?? 'tx1';
  const sdp = 'sdp' in opts ? opts.sdp : SDP;
  return {
    key,
    contactUser: registrationId,
    requestUri: `sip:${registrationId}@127.0.0.1:5070`,
    from: { uri: 'sip:+15550001234@127.0.0.1:5080', displayName: 'Carol' },
    to: { uri: `sip:${ALICE}@ims.lab` },
    ...(sdp !== undefined && { sdp }),
    dialog: {
      callId: `in-${key}`,
      role: 'uas',
      localTag: 'ours',
      remoteTag: 'theirs',
      localUri: `sip:${ALICE}@ims.lab`,
      remoteUri: 'sip:+15550001234@127.0.0.1',
      localSeq: 0,
      remoteSeq: 1,
      remoteTarget: 'sip:c@127.0.0.1:5080',
      routeSet: [],
      localContact: 'sip:x@127.0.0.1:5070',
      state: 'early',
    },
  };
}
