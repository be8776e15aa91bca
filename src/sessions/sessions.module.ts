import { Module } from '@nestjs/common';
import { RegistrationsModule } from '../registrations/registrations.module';
import { IncomingCalls } from './incoming-calls';
import { SessionAdoption } from './session-adoption';
import { OutgoingCalls } from './outgoing-calls';
import { SessionQuota } from './session-quota';
import { SessionTransitions } from './session-transitions';
import { SessionUpdates } from './session-updates';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

/** webrtc-call-handling: media sessions as SIP INVITE dialogs. */
@Module({
  imports: [RegistrationsModule],
  controllers: [SessionsController],
  providers: [SessionTransitions, SessionQuota, OutgoingCalls, IncomingCalls, SessionUpdates, SessionsService, SessionAdoption],
  exports: [SessionsService],
})
export class SessionsModule {}
