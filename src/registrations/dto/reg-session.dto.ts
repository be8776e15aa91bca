import { IsUUID, MaxLength } from 'class-validator';
import { IsCalendarDateTime, IsOptionalNotNull } from '../../common/validation/validators';
import { CompiledValidation } from '../../common/validation/compiled-schema';
import type { Registration } from '../../store/registration-store';

/** CAMARA webrtc-registration `RegSessionRequest`. */
@CompiledValidation()
export class RegSessionRequest {
  /** The device's UUID, chosen by the app and stable on the device. */
  @IsUUID('all', { message: 'deviceId must be a UUID' })
  @MaxLength(36)
  deviceId!: string;

  /** Absolute expiry asked for (RFC 3339 with offset); capped at the operator's maximum. */
  @IsOptionalNotNull()
  @MaxLength(64)
  @IsCalendarDateTime()
  registrationExpireTime?: string;
}

/** CAMARA webrtc-registration `RegSessionUpdate`. */
@CompiledValidation()
export class RegSessionUpdate {
  @IsOptionalNotNull()
  @MaxLength(64)
  @IsCalendarDateTime()
  registrationExpireTime?: string;
}

/** CAMARA webrtc-registration `RegSessionResponse`. */
export interface RegSessionResponse {
  regInfo: { phoneNumber: string; regStatus: 'Registered' };
  registrationId: string;
  expiresAt: string;
}

export function toRegSessionResponse(r: Registration): RegSessionResponse {
  return {
    regInfo: { phoneNumber: r.phoneNumber, regStatus: 'Registered' },
    registrationId: r.registrationId,
    expiresAt: new Date(r.expiresAt).toISOString(),
  };
}
