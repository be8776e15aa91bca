import { Type } from 'class-transformer';
import { Equals, IsIn, IsObject, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation/validators';
import { CompiledValidation } from '../../common/validation/compiled-schema';
import { ADDRESS_PATTERN, SHORT_CODE } from '../address';

/** CAMARA Address, or a dialled short code (checked against EMERGENCY_NUMBERS by the service). */
const RECEIVER_PATTERN = new RegExp(`${ADDRESS_PATTERN.source}|${SHORT_CODE.source}`);
import { SESSION_STATUSES, SessionStatus } from '../session-status';

// eslint-disable-next-line no-control-regex -- matching control characters is the point: they must not reach SIP headers
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
/** SDP may carry CR/LF (line ends) and TAB, nothing else below 0x20. */
// eslint-disable-next-line no-control-regex -- refuses control characters other than line ends and TAB in SDP
const SDP_CHARS = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;

/** CAMARA `WrtcSdpDescriptor`. */
export class WrtcSdpDescriptor {
  @IsString()
  @MaxLength(65536)
  @Matches(SDP_CHARS, { message: 'sdp must not contain control characters other than CR, LF and TAB' })
  sdp!: string;
}

/** CAMARA `MediaSessionCreate` (POST /sessions). `status` and `mediaSessionId` are stripped: the server assigns them. */
@CompiledValidation()
export class MediaSessionCreate {
  @IsString()
  @MaxLength(256)
  @Matches(ADDRESS_PATTERN, { message: 'originatorAddress must be a tel:, sip: or anonymous address (CAMARA Address)' })
  originatorAddress!: string;

  @IsOptionalNotNull()
  @IsString()
  @MaxLength(256)
  @Matches(NO_CONTROL, { message: 'originatorName must not contain control characters' })
  originatorName?: string;

  @IsString()
  @MaxLength(256)
  @Matches(RECEIVER_PATTERN, { message: 'receiverAddress must be a tel:, sip: or urn:service:sos address (CAMARA Address)' })
  receiverAddress!: string;

  @IsOptionalNotNull()
  @IsString()
  @MaxLength(256)
  @Matches(NO_CONTROL, { message: 'receiverName must not contain control characters' })
  receiverName?: string;

  @ValidateNested()
  @Type(() => WrtcSdpDescriptor)
  @IsObject({ message: 'offer must be an object with an sdp' })
  offer!: WrtcSdpDescriptor;

  /** CAMARA: an answer MUST NOT be present in a request to create a session. */
  @Equals(undefined, { message: 'answer must not be present when creating a session' })
  answer?: unknown;

  @IsOptionalNotNull()
  @IsIn(['REGULAR', 'EMERGENCY'])
  callType?: 'REGULAR' | 'EMERGENCY';

  @IsOptionalNotNull()
  @IsObject()
  locationDetails?: Record<string, unknown>;
}

/** CAMARA `MediaSessionStatusChange` (PUT /sessions/{id}/status). */
@CompiledValidation()
export class MediaSessionStatusChange {
  @IsIn(SESSION_STATUSES)
  status!: SessionStatus;

  @IsOptionalNotNull()
  @ValidateNested()
  @Type(() => WrtcSdpDescriptor)
  @IsObject()
  offer?: WrtcSdpDescriptor;

  @IsOptionalNotNull()
  @ValidateNested()
  @Type(() => WrtcSdpDescriptor)
  @IsObject()
  answer?: WrtcSdpDescriptor;

  @IsOptionalNotNull()
  @IsObject()
  locationDetails?: Record<string, unknown>;
}

/** CAMARA `MediaSessionResponse`. */
export interface MediaSessionResponse {
  mediaSessionId: string;
  originatorAddress: string;
  originatorName?: string;
  receiverAddress: string;
  receiverName?: string;
  status: SessionStatus;
  offer: { sdp: string };
  answer?: { sdp: string };
  callType?: 'REGULAR' | 'EMERGENCY';
  locationDetails?: Record<string, unknown>;
}
