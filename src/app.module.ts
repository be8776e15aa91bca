import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { AuthGuard } from './common/auth/auth.guard';
import { CamaraExceptionFilter } from './common/http/camara-exception.filter';
import { LoggingModule, RootLoggerModule } from './common/logging/logging.module';
import { StoreModule } from './store/store.module';
import { SipModule } from './sip/sip.module';
import { EventsModule } from './events/events.module';
import { RegistrationsModule } from './registrations/registrations.module';
import { SessionsModule } from './sessions/sessions.module';
import { ObservabilityModule } from './observability/observability.module';

/** The gateway: one feature module per CAMARA API on top of the SIP, store and events modules. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), RootLoggerModule, LoggingModule, ObservabilityModule, StoreModule, SipModule, EventsModule, RegistrationsModule, SessionsModule],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: CamaraExceptionFilter },
      ],
    };
  }
}
