import { Module } from '@nestjs/common';
import { KirmSipGateway } from './kirm-sip.gateway';
import { SipCredentialsProvider } from './sip-credentials.provider';
import { SipGateway } from './sip-gateway';

/**
 * The SIP side: `SipGateway` (one stack per instance, bound at module init, closed at destroy) and
 * the subscribers' digest credentials. Needs `AppConfig` and `ROOT_LOGGER` (global providers).
 * `SIP_TIMERS` (kirm-sip.gateway.ts) may be provided to shorten SIP timers in tests.
 */
@Module({
  providers: [SipCredentialsProvider, { provide: SipGateway, useClass: KirmSipGateway }],
  exports: [SipGateway, SipCredentialsProvider],
})
export class SipModule {}
