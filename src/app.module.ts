import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { AuthGuard } from './common/auth/auth.guard';
import { CamaraExceptionFilter } from './common/http/camara-exception.filter';
import { BodyErrorGuard } from './common/http/body-error.guard';
import type { RootLogger } from './common/logging/root-logger';
import { LoggingModule, RootLoggerModule } from './common/logging/logging.module';
import { StoreModule } from './store/store.module';
import { ClusterModule } from './cluster/cluster.module';
import { SipModule } from './sip/sip.module';
import { EventsModule } from './events/events.module';
import { RegistrationsModule } from './registrations/registrations.module';
import { SessionsModule } from './sessions/sessions.module';
import { ObservabilityModule } from './observability/observability.module';

/** The gateway: one feature module per CAMARA API on top of the SIP, store and events modules. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger?: RootLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        RootLoggerModule.forRoot(logger),
        LoggingModule,
        ObservabilityModule,
        StoreModule,
        ClusterModule,
        SipModule,
        EventsModule,
        RegistrationsModule,
        SessionsModule,
      ],
      providers: [
        // In this order: the token and scopes are decided before any body error is reported.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: BodyErrorGuard },
        { provide: APP_FILTER, useClass: CamaraExceptionFilter },
      ],
    };
  }
}
