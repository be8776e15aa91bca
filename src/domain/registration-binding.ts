/** What a REGISTER binding needs to be refreshed or removed (RFC 3261 §10.2.4: same Call-ID, CSeq + 1). */
export interface RegistrationBinding {
  callId: string;
  /** CSeq of the last REGISTER sent for this binding. */
  cseq: number;
  /** The Contact URI bound (carries the instance's advertised host:port). */
  contact: string;
  /** What an IMS registrar told us in its 200 OK (`SIP_IMS_PROFILE=ims`); absent with `plain`. */
  ims?: ImsRegistration;
}

/**
 * The IMS facts of a registration, from the registrar's last 200 OK (3GPP TS 24.229 §5.1.1.2).
 * Every value is a URI already checked for CR/LF and syntax, so it may go into a header as is.
 */
export interface ImsRegistration {
  /** RFC 3608 §6: preloaded as Route (in order) on originating requests. */
  serviceRoute: string[];
  /** RFC 3455 §4.1: the public identities of the registered AoR, the default one first. */
  associatedUris: string[];
  /** RFC 3327 §5.3: the Path the registrar stored (informational for a UA). */
  path: string[];
  /** RFC 5627 §5.1: public GRUU of our contact. */
  pubGruu?: string;
  /** RFC 5627 §5.1: temporary GRUU of our contact (the latest). */
  tempGruu?: string;
}
