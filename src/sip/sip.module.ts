import { Module } from '@nestjs/common';
import { SipUserAgent } from './sip-user-agent';
import { SipCredentialsProvider } from './sip-credentials.provider';
import { SipGateway } from './sip-gateway';

/**
 * The SIP side: `SipGateway` (one stack per instance, bound at module init, closed at destroy) and
 * the subscribers' digest credentials. Needs `AppConfig` and `ROOT_LOGGER` (global providers).
 * `SIP_TIMERS` (sip-timers.ts) may be provided to shorten SIP timers in tests.
 */
@Module({
  providers: [SipCredentialsProvider, { provide: SipGateway, useClass: SipUserAgent }],
  exports: [SipGateway, SipCredentialsProvider],
})
export class SipModule {}
