import { Module } from '@nestjs/common';
import { SipModule } from '../sip/sip.module';
import { EventsModule } from '../events/events.module';
import { RegistrationRefresher } from './registration-refresher';
import { RegistrationsController } from './registrations.controller';
import { RegistrationsService } from './registrations.service';

/** webrtc-registration: device registrations kept alive as SIP REGISTER bindings. */
@Module({
  imports: [SipModule, EventsModule],
  controllers: [RegistrationsController],
  providers: [RegistrationsService, RegistrationRefresher],
  exports: [RegistrationsService, SipModule, EventsModule],
})
export class RegistrationsModule {}
