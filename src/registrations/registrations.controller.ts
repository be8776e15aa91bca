import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { IsUUID, MaxLength } from 'class-validator';
import { CurrentPrincipal, Scopes } from '../common/auth/scopes.decorator';
import { RequestLog } from '../common/logging/request-logger';
import type { RootLogger } from '../common/logging/root-logger';
import type { Principal } from '../common/auth/principal';
import { RegSessionRequest, RegSessionResponse, RegSessionUpdate } from './dto/reg-session.dto';
import { RegistrationsService } from './registrations.service';

class DeviceQuery {
  @IsUUID('all', { message: 'deviceId must be a UUID' })
  @MaxLength(36)
  deviceId!: string;
}

/** webrtc-registration v0.4: device registrations, each backed by a SIP REGISTER binding. */
@Controller('webrtc-registration/v0.4/sessions')
export class RegistrationsController {
  constructor(private readonly registrations: RegistrationsService) {}

  @Post()
  @Scopes('webrtc-registration:sessions:create')
  create(@CurrentPrincipal() principal: Principal, @Body() body: RegSessionRequest, @RequestLog() log: RootLogger): Promise<RegSessionResponse> {
    return this.registrations.create(principal, body, log);
  }

  @Get()
  @Scopes('webrtc-registration:sessions:read')
  listByDevice(@CurrentPrincipal() principal: Principal, @Query() query: DeviceQuery): Promise<RegSessionResponse[]> {
    return this.registrations.listByDevice(principal, query.deviceId);
  }

  @Get(':registrationId')
  @Scopes('webrtc-registration:sessions:read')
  get(@CurrentPrincipal() principal: Principal, @Param('registrationId') id: string): Promise<RegSessionResponse> {
    return this.registrations.get(principal, id);
  }

  @Put(':registrationId')
  @Scopes('webrtc-registration:sessions:write')
  refresh(@CurrentPrincipal() principal: Principal, @Param('registrationId') id: string, @Body() body: RegSessionUpdate): Promise<RegSessionResponse> {
    return this.registrations.refresh(principal, id, body);
  }

  @Delete(':registrationId')
  @HttpCode(204)
  @Scopes('webrtc-registration:sessions:delete')
  async remove(@CurrentPrincipal() principal: Principal, @Param('registrationId') id: string, @RequestLog() log: RootLogger): Promise<void> {
    await this.registrations.remove(principal, id, log);
  }
}
