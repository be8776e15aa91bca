import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { errorCode } from '../../common/http/validation.pipe';
import { IsCalendarDateTime, IsOptionalNotNull } from '../../common/validation/validators';
import { CompiledValidation } from '../../common/validation/compiled-schema';
import type { SubscriptionEventType } from '../../store/subscription-store';

export const SUBSCRIPTION_EVENT_TYPES: readonly SubscriptionEventType[] = [
  'org.camaraproject.webrtc-events.v0.session-status',
  'org.camaraproject.webrtc-events.v0.session-invitation',
  'org.camaraproject.webrtc-events.v0.registration-ends',
];

// NOTE: values with their own CAMARA error code (protocol → INVALID_PROTOCOL, sink → INVALID_SINK,
// credentialType → INVALID_CREDENTIAL, accessTokenType → INVALID_TOKEN) are only type-checked here
// and judged by SubscriptionsService, so that they do not surface as a generic INVALID_ARGUMENT.

const SINK = { context: errorCode('INVALID_SINK') };
const PROTOCOL = { context: errorCode('INVALID_PROTOCOL') };
const CREDENTIAL = { context: errorCode('INVALID_CREDENTIAL') };
/** A credential is sent in an HTTP header: CR/LF or any other control character would break it (or inject headers). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
const noControl = (field: string) => ({ ...CREDENTIAL, message: `sinkCredential.${field} must not contain control characters` });

/** Spec `SinkCredential` / `AccessTokenCredential`. Every failure here is INVALID_CREDENTIAL (CAMARA_event_common). */
export class SinkCredentialDto {
  @IsString(CREDENTIAL)
  @MaxLength(64, CREDENTIAL)
  @Matches(NO_CONTROL, noControl('credentialType'))
  credentialType!: string;

  @IsOptionalNotNull()
  @IsString(CREDENTIAL)
  @MaxLength(8192, CREDENTIAL)
  @Matches(NO_CONTROL, noControl('accessToken'))
  accessToken?: string;

  @IsOptionalNotNull()
  @IsString(CREDENTIAL)
  @MaxLength(64, CREDENTIAL)
  @IsCalendarDateTime(CREDENTIAL)
  accessTokenExpiresUtc?: string;

  @IsOptionalNotNull()
  @IsString(CREDENTIAL)
  @MaxLength(64, CREDENTIAL)
  @Matches(NO_CONTROL, noControl('accessTokenType'))
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

  @IsOptionalNotNull()
  @IsString()
  @MaxLength(64)
  @IsCalendarDateTime()
  subscriptionExpireTime?: string;

  /** Kept for CAMARA alignment; not used by this API (spec). */
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  subscriptionMaxEvents?: number;

  /** Kept for CAMARA alignment; not used by this API (spec). */
  @IsOptionalNotNull()
  @IsBoolean()
  initialEvent?: boolean;
}

/** Spec `SubscriptionRequest`. */
@CompiledValidation()
export class SubscriptionRequest {
  @IsString(PROTOCOL)
  @MaxLength(64, PROTOCOL)
  protocol!: string;

  @IsString(SINK)
  @MaxLength(1024, SINK)
  sink!: string;

  @IsOptionalNotNull()
  @IsObject(CREDENTIAL)
  @ValidateNested(CREDENTIAL)
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
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(64)
  @IsCalendarDateTime()
  subscriptionExpireTime?: string;
}

/** Spec `SubscriptionUpdateRequest`: either or both of `sinkCredential` and `config.subscriptionExpireTime`. */
export class SubscriptionUpdateRequest {
  @IsOptionalNotNull()
  @IsObject(CREDENTIAL)
  @ValidateNested(CREDENTIAL)
  @Type(() => SinkCredentialDto)
  sinkCredential?: SinkCredentialDto;

  @IsOptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => SubscriptionUpdateConfigDto)
  config?: SubscriptionUpdateConfigDto;
}
