import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import type { SubscriptionEventType } from '../../store/subscription-store';

/** RFC 3339 date-time with a time zone (CAMARA: "must have time zone"). */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export const SUBSCRIPTION_EVENT_TYPES: readonly SubscriptionEventType[] = [
  'org.camaraproject.webrtc-events.v0.session-status',
  'org.camaraproject.webrtc-events.v0.session-invitation',
  'org.camaraproject.webrtc-events.v0.registration-ends',
];

// NOTE: values with their own CAMARA error code (protocol → INVALID_PROTOCOL, sink → INVALID_SINK,
// credentialType → INVALID_CREDENTIAL, accessTokenType → INVALID_TOKEN) are only type-checked here
// and judged by SubscriptionsService, so that they do not surface as a generic INVALID_ARGUMENT.

/** Spec `SinkCredential` / `AccessTokenCredential`. */
export class SinkCredentialDto {
  @IsString()
  credentialType!: string;

  @IsOptional()
  @IsString()
  @MaxLength(8192)
  accessToken?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(RFC3339, { message: 'accessTokenExpiresUtc must be an RFC 3339 date-time with time zone' })
  accessTokenExpiresUtc?: string;

  @IsOptional()
  @IsString()
  accessTokenType?: string;
}

/** Spec `WebrtcSubscriptionDetail`. */
export class WebrtcSubscriptionDetailDto {
  @IsUUID('all', { message: 'deviceId must be a UUID' })
  @MaxLength(36)
  deviceId!: string;
}

/** Spec `Config`. */
export class ConfigDto {
  @IsObject()
  @ValidateNested()
  @Type(() => WebrtcSubscriptionDetailDto)
  subscriptionDetail!: WebrtcSubscriptionDetailDto;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(RFC3339, { message: 'subscriptionExpireTime must be an RFC 3339 date-time with time zone' })
  subscriptionExpireTime?: string;

  /** Kept for CAMARA alignment; not used by this API (spec). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  subscriptionMaxEvents?: number;

  /** Kept for CAMARA alignment; not used by this API (spec). */
  @IsOptional()
  @IsBoolean()
  initialEvent?: boolean;
}

/** Spec `SubscriptionRequest`. */
export class SubscriptionRequest {
  @IsString()
  protocol!: string;

  @IsString()
  @MaxLength(1024)
  sink!: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SinkCredentialDto)
  sinkCredential?: SinkCredentialDto;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(3)
  @ArrayUnique()
  @IsIn(SUBSCRIPTION_EVENT_TYPES, { each: true })
  types!: SubscriptionEventType[];

  @IsObject()
  @ValidateNested()
  @Type(() => ConfigDto)
  config!: ConfigDto;
}

/** Spec `SubscriptionUpdateConfig`. */
export class SubscriptionUpdateConfigDto {
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(RFC3339, { message: 'subscriptionExpireTime must be an RFC 3339 date-time with time zone' })
  subscriptionExpireTime?: string;
}

/** Spec `SubscriptionUpdateRequest`: either or both of `sinkCredential` and `config.subscriptionExpireTime`. */
export class SubscriptionUpdateRequest {
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SinkCredentialDto)
  sinkCredential?: SinkCredentialDto;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SubscriptionUpdateConfigDto)
  config?: SubscriptionUpdateConfigDto;
}
