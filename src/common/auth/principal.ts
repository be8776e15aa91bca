/** Who is calling, from a verified access token. */
export interface Principal {
  /** `sub` claim. */
  subject: string | undefined;
  /** `phone_number` claim (E.164), the subscriber the token is bound to. */
  phoneNumber: string | undefined;
  /** Space-separated `scope` claim. */
  scopes: ReadonlySet<string>;
}
