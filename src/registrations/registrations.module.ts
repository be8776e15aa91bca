import { Module } from '@nestjs/common';
import { RegistrationRefresher } from './registration-refresher';
import { RegistrationsController } from './registrations.controller';
import { RegistrationsService } from './registrations.service';

/** webrtc-registration. Needs SipGateway, SipCredentialsProvider, EventPublisher and the stores (global modules). */
@Module({
  controllers: [RegistrationsController],
  providers: [RegistrationsService, RegistrationRefresher],
  exports: [RegistrationsService],
})
export class RegistrationsModule {}
