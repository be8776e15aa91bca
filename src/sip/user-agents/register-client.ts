import { ImsProfile, parseImsRegistration } from '../ims-registration';
import { buildRegister, grantedExpires, minExpires, sameContact } from '../registration';
import { RegistrationBinding, RegistrationGrant, RegistrationTarget, SipFailure } from '../sip-gateway';
import { generateCallId } from '../sip-syntax';
import type { NonInviteClient } from './non-invite-client';
import type { UserAgentCore } from './user-agent-core';

/** REGISTER and un-REGISTER of one subscriber's binding (RFC 3261 §10.2). */
export class RegisterClient {
  constructor(
    private readonly core: UserAgentCore,
    private readonly transactions: NonInviteClient,
    private readonly domain: string,
    private readonly contactFor: (user: string) => string,
    private readonly profile: ImsProfile = 'plain',
  ) {}

  async register(target: RegistrationTarget): Promise<RegistrationGrant> {
    const contact = this.contactFor(target.registrationId);
    const callId = target.binding?.callId ?? generateCallId();
    // §10.2.4: a refresh keeps the Call-ID and increments the CSeq
    let cseq = (target.binding?.cseq ?? 0) + 1;
    let expiresS = target.expiresS;
    let retried423 = false;
    for (;;) {
      const rq = buildRegister({
        domain: this.domain,
        phoneNumber: target.phoneNumber,
        contact,
        deviceId: target.deviceId,
        expiresS,
        callId,
        cseq,
        // another instance's binding (restart / failover): drop it in the same REGISTER
        staleContact: target.binding?.contact,
        profile: this.profile,
      });
      const { response, lastSeq } = await this.transactions.transact(rq, target.credentials);
      cseq = lastSeq;
      const status = response.status ?? 0;
      if (status === 423 && !retried423) {
        // §10.3 step 7: 423 Interval Too Brief carries Min-Expires; retry once with it
        const min = minExpires(response);
        if (min !== undefined && min > expiresS) {
          retried423 = true;
          expiresS = min;
          cseq += 1;
          continue;
        }
      }
      if (status >= 300) throw new SipFailure('rejected', `REGISTER rejected: ${status} ${response.reason ?? ''}`.trim(), status, response.reason);
      const binding: RegistrationBinding = { callId, cseq, contact };
      // TS 24.229 §5.1.1.2.2: keep Service-Route, P-Associated-URI, Path and GRUUs of every 200 OK (a refresh replaces them)
      if (this.profile === 'ims') binding.ims = parseImsRegistration(response, (uri) => sameContact(uri, contact));
      return { binding, grantedExpiresS: grantedExpires(response, contact, expiresS) };
    }
  }

  /** REGISTER with Expires: 0 (§10.2.2). Resolves on any final answer; a refusal is logged. */
  async unregister(target: RegistrationTarget & { binding: RegistrationBinding }): Promise<void> {
    const rq = buildRegister({
      domain: this.domain,
      phoneNumber: target.phoneNumber,
      // remove the binding as registered (it may carry another instance's host:port)
      contact: target.binding.contact,
      expiresS: 0,
      callId: target.binding.callId,
      cseq: target.binding.cseq + 1,
    });
    const { response } = await this.transactions.transact(rq, target.credentials);
    if ((response.status ?? 0) >= 300) {
      this.core.logger.warn({ callId: target.binding.callId, status: response.status }, 'un-REGISTER rejected');
    }
  }
}
