/** What a REGISTER binding needs to be refreshed or removed (RFC 3261 §10.2.4: same Call-ID, CSeq + 1). */
export interface RegistrationBinding {
  callId: string;
  /** CSeq of the last REGISTER sent for this binding. */
  cseq: number;
  /** The Contact URI bound (carries the instance's advertised host:port). */
  contact: string;
}
