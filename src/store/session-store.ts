import type { DialogState } from '../domain/dialog-state';
import type { SessionStatus } from '../domain/media-session-status';
import type { FanOutRequest, FanOutResult } from './event-queue';
import type { QuotaExceeded } from './quota';

/** A media session (webrtc-call-handling) and its SIP dialog, as stored. Plain JSON. */
export interface MediaSession {
  mediaSessionId: string;
  /** outgoing: the app called (we are the UAC); incoming: the network called the app (UAS). */
  direction: 'outgoing' | 'incoming';
  /** The subscriber who owns the session (the token's phone number). */
  phoneNumber: string;
  /** The registration and device it belongs to (events go to the device's subscriptions). */
  registrationId?: string;
  deviceId?: string;
  originatorAddress: string;
  originatorName?: string;
  receiverAddress: string;
  receiverName?: string;
  callType: 'REGULAR' | 'EMERGENCY';
  locationDetails?: Record<string, unknown>;
  status: SessionStatus;
  /** CAMARA offer/answer of the latest negotiation, from the app's point of view. */
  offer: string;
  answer?: string;
  /** The SDP the app's side last sent and the far end's last SDP (for hold/resume and re-offers). */
  localSdp?: string;
  remoteSdp?: string;
  /** Last SIP response that moved the status (code and reason), for GET and logs. */
  sipCode?: number;
  sipReason?: string;
  /** Why we sent a CANCEL, so its 487 maps to the right status. */
  cancelledBy?: 'client' | 'ring-timeout';
  /** The SIP dialog; absent only between create and the INVITE leaving. */
  dialog?: DialogState;
  /** The gateway instance holding its SIP transactions and timers (several instances share the store); absent: not yet stamped, whichever instance loads it drives it. */
  owner?: string;
  /** Set when the client deleted it: GET answers 404 from then on. */
  deleted?: boolean;
  /** Per-session sequence number of session-status events (CAMARA `sequenceNumber`). */
  sequenceNumber: number;
  createdAt: number;
  updatedAt: number;
  /** When the status became final. */
  endedAt?: number;
  /** Compare-and-set counter; the store sets it. */
  version: number;
}

/**
 * Media sessions by id, and by SIP Call-ID for requests the network sends in a dialog.
 * A record lives as long as `ttlMs` given at each write (long while the call is up, the retention
 * window once it ended).
 */
export abstract class SessionStore {
  /**
   * Stores a new session. With `maxPerNumber` > 0, a non-final session is refused (QuotaExceeded,
   * nothing written) when its `phoneNumber` already has that many non-final ones; the check and
   * the insert are one atomic step.
   */
  abstract create(session: MediaSession, ttlMs: number, maxPerNumber?: number): Promise<QuotaExceeded | undefined>;
  abstract get(mediaSessionId: string): Promise<MediaSession | undefined>;
  /**
   * The session of the dialog (Call-ID, our tag). Both legs of a call between two subscribers of
   * the same gateway share the Call-ID, so the local tag is part of the key (RFC 3261 §12).
   */
  abstract findByDialog(callId: string, localTag: string): Promise<MediaSession | undefined>;
  /** Compare-and-set on `version`; also (re)indexes the dialog. */
  abstract update(next: MediaSession, expectedVersion: number, ttlMs: number): Promise<MediaSession | undefined>;
  /**
   * `update`, and in the same atomic step `EventQueue#fanOut` of the event that the update reports:
   * one store round trip for a transition and its session-status event. Undefined on a version
   * conflict (nothing written). Without `fanOut` in the result (a store that cannot do both at once),
   * or with `need-ids` (more matching subscriptions than `event.ids`), the session was written but no
   * event: the caller publishes it on its own.
   */
  async updateAndFanOut(next: MediaSession, expectedVersion: number, ttlMs: number, _event: FanOutRequest): Promise<{ session: MediaSession; fanOut?: FanOutResult } | undefined> {
    const session = await this.update(next, expectedVersion, ttlMs);
    return session && { session };
  }
  /** Number of stored sessions whose status is not final (metrics). */
  abstract countActive(): Promise<number>;
  /** Sessions of `phoneNumber` whose status is not final (the per-number quota). */
  abstract countActiveByNumber(phoneNumber: string): Promise<number>;
}
