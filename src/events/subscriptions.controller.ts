import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../common/auth/principal';
import { CurrentPrincipal, Scopes } from '../common/auth/scopes.decorator';
import { correlatorOf } from '../common/http/correlator';
import { SubscriptionRequest, SubscriptionUpdateRequest } from './dto/subscription-request.dto';
import { Subscription } from './dto/subscription.dto';
import { EVENTS_DELETE_SCOPE, EVENTS_READ_SCOPE, EVENTS_UPDATE_SCOPE, SubscriptionsService } from './subscriptions.service';

/** webrtc-events subscriptions. Create scopes depend on the requested types: checked by the service. */
@Controller('webrtc-events/v0.3/subscriptions')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @HttpCode(201)
  create(@CurrentPrincipal() principal: Principal, @Body() body: SubscriptionRequest): Promise<Subscription> {
    return this.subscriptions.create(principal, body);
  }

  @Get()
  @Scopes(EVENTS_READ_SCOPE)
  list(@CurrentPrincipal() principal: Principal): Promise<Subscription[]> {
    return this.subscriptions.list(principal);
  }

  @Get(':subscriptionId')
  @Scopes(EVENTS_READ_SCOPE)
  get(@CurrentPrincipal() principal: Principal, @Param('subscriptionId') id: string): Promise<Subscription> {
    return this.subscriptions.get(principal, id);
  }

  @Put(':subscriptionId')
  @Scopes(EVENTS_UPDATE_SCOPE)
  update(@CurrentPrincipal() principal: Principal, @Param('subscriptionId') id: string, @Body() body: SubscriptionUpdateRequest): Promise<Subscription> {
    return this.subscriptions.update(principal, id, body);
  }

  @Delete(':subscriptionId')
  @HttpCode(204)
  @Scopes(EVENTS_DELETE_SCOPE)
  async remove(@CurrentPrincipal() principal: Principal, @Param('subscriptionId') id: string, @Req() req: { raw: IncomingMessage }): Promise<void> {
    await this.subscriptions.delete(principal, id, correlatorOf(req.raw));
  }
}
