import { Module } from '@nestjs/common';
import { SipModule } from '../sip/sip.module';
import { EventsModule } from '../events/events.module';
import { RegEvents } from './reg-events';
import { RegistrationRefresher } from './registration-refresher';
import { RegistrationsController } from './registrations.controller';
import { RegistrationsService } from './registrations.service';

/** webrtc-registration: device registrations kept alive as SIP REGISTER bindings. */
@Module({
  imports: [SipModule, EventsModule],
  controllers: [RegistrationsController],
  providers: [RegistrationsService, RegistrationRefresher, RegEvents],
  exports: [RegistrationsService, SipModule, EventsModule],
})
export class RegistrationsModule {}
