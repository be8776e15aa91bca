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
}
