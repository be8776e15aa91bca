import { IsOptional, IsRFC3339, IsUUID, MaxLength } from 'class-validator';
import type { Registration } from '../../store/registration-store';

/** CAMARA webrtc-registration `RegSessionRequest`. */
export class RegSessionRequest {
  /** The device's UUID, chosen by the app and stable on the device. */
  @IsUUID('all', { message: 'deviceId must be a UUID' })
  @MaxLength(36)
  deviceId!: string;

  /** Absolute expiry asked for (RFC 3339 with offset); capped at the operator's maximum. */
  @IsOptional()
  @MaxLength(64)
  @IsRFC3339({ message: 'registrationExpireTime must be an RFC 3339 date-time with a time offset' })
  registrationExpireTime?: string;
}

/** CAMARA webrtc-registration `RegSessionUpdate`. */
export class RegSessionUpdate {
  @IsOptional()
  @MaxLength(64)
  @IsRFC3339({ message: 'registrationExpireTime must be an RFC 3339 date-time with a time offset' })
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
