import { Module } from '@nestjs/common';
import { RegistrationsModule } from '../registrations/registrations.module';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

/** webrtc-call-handling: media sessions as SIP INVITE dialogs. */
@Module({
  imports: [RegistrationsModule],
  controllers: [SessionsController],
  providers: [SessionsService],
  exports: [SessionsService],
})
export class SessionsModule {}
