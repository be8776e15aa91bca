import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { CurrentPrincipal, Scopes } from '../common/auth/scopes.decorator';
import { RequestLog } from '../common/logging/request-logger';
import type { RootLogger } from '../common/logging/root-logger';
import type { Principal } from '../common/auth/principal';
import { MediaSessionCreate, MediaSessionResponse, MediaSessionStatusChange } from './dto/media-session.dto';
import { RegistrationIdHeader } from './registration-id.decorator';
import { SessionsService } from './sessions.service';

/** webrtc-call-handling v0.4 (and the seed path `POST /webrtc/sessions`, same handler). */
@Controller()
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post(['webrtc-call-handling/v0.4/sessions', 'webrtc/sessions'])
  @Scopes('webrtc-call-handling:sessions:create')
  create(@CurrentPrincipal() principal: Principal, @RegistrationIdHeader() registrationId: string, @Body() body: MediaSessionCreate, @RequestLog() log: RootLogger): Promise<MediaSessionResponse> {
    return this.sessions.create(principal, registrationId, body, log);
  }

  @Get('webrtc-call-handling/v0.4/sessions/:mediaSessionId')
  @Scopes('webrtc-call-handling:sessions:read')
  get(@CurrentPrincipal() principal: Principal, @Param('mediaSessionId') id: string): Promise<MediaSessionResponse> {
    return this.sessions.get(principal, id);
  }

  @Put('webrtc-call-handling/v0.4/sessions/:mediaSessionId/status')
  @Scopes('webrtc-call-handling:sessions:write')
  updateStatus(@CurrentPrincipal() principal: Principal, @Param('mediaSessionId') id: string, @Body() body: MediaSessionStatusChange, @RequestLog() log: RootLogger): Promise<MediaSessionResponse> {
    return this.sessions.updateStatus(principal, id, body, false, log);
  }

  @Delete('webrtc-call-handling/v0.4/sessions/:mediaSessionId')
  @HttpCode(204)
  @Scopes('webrtc-call-handling:sessions:delete')
  async remove(@CurrentPrincipal() principal: Principal, @Param('mediaSessionId') id: string, @RequestLog() log: RootLogger): Promise<void> {
    await this.sessions.remove(principal, id, false, log);
  }
}
