/**
 * The dialog as plain data (RFC 3261 §12). Stored with the session; any instance can build an
 * in-dialog request from it.
 */
export interface DialogState {
  callId: string;
  role: 'uac' | 'uas';
  localTag: string;
  /** Absent until the far end answers with a To tag. */
  remoteTag?: string;
  localUri: string;
  localDisplayName?: string;
  remoteUri: string;
  remoteDisplayName?: string;
  /** CSeq of the last request we sent in this dialog. */
  localSeq: number;
  /** CSeq of the last request the far end sent (UAS side, or in-dialog requests received). */
  remoteSeq?: number;
  /** Remote target (Contact of the far end). */
  remoteTarget: string;
  /** Route set, in the order to use it (RFC 3261 §12.1.2: reversed Record-Route for the UAC). */
  routeSet: string[];
  localContact: string;
  /** `early` between a 1xx with To tag and the 2xx; `confirmed` after. */
  state: 'early' | 'confirmed';
  /**
   * For the UAC while the INVITE is pending: what a CANCEL needs (RFC 3261 §9.1: same Request-URI,
   * Call-ID, To, From, CSeq number and top Via branch as the INVITE).
   */
  invite?: { requestUri: string; branch: string; cseq: number; via: string; route?: string[] };
  /**
   * For the UAS while the initial INVITE has no final response: what a final response from another
   * instance needs when the one holding the transaction is lost (RFC 3261 §8.2.6.2: Via, From, To,
   * Call-ID and CSeq copied; §18.2.2: sent to the top Via). Header values as received (the top Via
   * with `received`/`rport`), checked free of CR/LF; `to` without our tag.
   */
  inviteServer?: { via: string[]; from: string; to: string; cseq: number };
  /**
   * The RFC 4028 session timer of the dialog as last negotiated (interval, which side refreshes,
   * whether the far end allows UPDATE), so that an instance adopting the call can run it.
   */
  sessionTimer?: { intervalS: number; refresher: 'local' | 'remote'; allowsUpdate: boolean };
}
