import { isIP } from 'node:net';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import {
  CallHandle,
  CallSignal,
  DialogState,
  LocationResult,
  LocationUpdate,
  MediaChange,
  ModifyResult,
  OutgoingCall,
  Progress,
  RegEventGrant,
  RegEventTarget,
  RegistrationBinding,
  RegistrationGrant,
  RegistrationTarget,
  RejectCause,
  SipCredentials,
  SipFailure,
  SipGateway,
} from './sip-gateway';
import { OutboundTargets, OutboundTargetStatus } from './routing/outbound-targets';
import { DEFAULT_PORT, nodeDnsClient, ProxyLocation, proxyLocation } from './routing/rfc3263';
import { optionsRequest, TargetProber } from './routing/target-prober';
import { DigestCredentialCache, PREEMPTIVE_AUTH_MAX_ENTRIES } from './digest-auth';
import { SipStack } from './sip-stack';
import { contactTransport, sipProtocolOf, transportTls } from './sip-tls-setup';
import { hostForUri } from './syntax/sip-uri';
import { parseTrustedPeers } from './trusted-peers';
import { SIP_TELEMETRY, SipTelemetry } from './sip-telemetry';
import { SIP_TIMERS, SipTimers } from './sip-timers';
import { SipSyntaxError, uriUser } from './sip-syntax';
import { InDialogClient } from './user-agents/in-dialog-client';
import { InviteClient } from './user-agents/invite-client';
import { NonInviteClient } from './user-agents/non-invite-client';
import { OfferExchanges } from './user-agents/offer-exchanges';
import { RegisterClient } from './user-agents/register-client';
import { SessionTimers } from './user-agents/session-timers';
import { storedFinalResponse, storedResponseTarget } from './user-agents/stored-invite';
import { SubscribeClient } from './user-agents/subscribe-client';
import { REJECT_RESPONSES, UserAgentServer } from './user-agents/server';
import type { UserAgentCore } from './user-agents/user-agent-core';

export { SIP_TIMERS } from './sip-timers';

const USER_PART = /^[A-Za-z0-9\-_.!~*'()+%&=$,;?/]+$/;

/**
 * The gateway's SIP side: one stack per instance, every request sent to the outbound proxy (the
 * P-CSCF), dialogs as plain JSON so any instance can continue them. The SIP work is done by one
 * user agent per role (user-agents/); this class wires them and decides CANCEL versus BYE.
 */
@Injectable()
export class SipUserAgent extends SipGateway implements OnModuleInit, OnApplicationShutdown {
  private readonly stack: SipStack;
  private readonly proxy: ProxyLocation;
  private readonly targets: OutboundTargets;
  private readonly prober: TargetProber;
  private readonly cfg: AppConfig['sip'];
  private readonly hostPort: string;
  private readonly nonInvite: NonInviteClient;
  private readonly registrar: RegisterClient;
  private readonly subscriber: SubscribeClient;
  private readonly inDialog: InDialogClient;
  private readonly inviteClient: InviteClient;
  private readonly server: UserAgentServer;
  private readonly sessionTimers: SessionTimers;
  private started?: Promise<void>;
  private closed = false;

  constructor(
    config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
    @Optional() @Inject(SIP_TIMERS) timers?: Partial<SipTimers>,
    @Optional() @Inject(SIP_TELEMETRY) telemetry?: SipTelemetry,
  ) {
    super();
    this.cfg = config.sip;
    this.proxy = proxyLocation(this.cfg.outboundProxy, this.cfg.transport);
    // RFC 3263: the proxy's addresses (same family as our socket: a udp6 socket cannot reach an IPv4 answer)
    this.targets = new OutboundTargets({
      location: this.proxy,
      dns: nodeDnsClient(this.cfg.dnsServers),
      family: isIP(this.cfg.listenAddress) === 6 ? 6 : 4,
      holdDownMs: this.cfg.targetHoldDownMs,
      logger: logger.child({ component: 'sip' }),
    });
    this.hostPort = `${hostForUri(this.cfg.advertisedAddress)}:${this.cfg.listenPort}`;
    this.stack = new SipStack(
      {
        protocol: sipProtocolOf(this.cfg.transport),
        listenAddress: this.cfg.listenAddress,
        listenPort: this.cfg.listenPort,
        advertisedHost: this.cfg.advertisedAddress,
        outboundProxy: { address: this.proxy.host, port: this.proxy.port ?? DEFAULT_PORT[this.proxy.transport] },
        targets: this.targets,
        timers: { t1: this.cfg.t1Ms, uasInviteGuardMs: this.cfg.ringTimeoutMs + 5_000, transactionTimeoutMs: this.cfg.transactionTimeoutMs, ...timers },
        ...(telemetry && { telemetry }),
        trustedPeers: this.cfg.trustedPeers.map(parseTrustedPeers).flat(),
        untrustedPolicy: this.cfg.untrustedPolicy,
        limits: { maxMessageBytes: this.cfg.maxMessageBytes, tcpMaxConnections: this.cfg.tcpMaxConnections, tcpIdleTimeoutMs: this.cfg.tcpIdleTimeoutMs },
        ...(this.cfg.tls && { tls: transportTls(this.cfg.tls, this.proxy.host, () => [this.stack.options.outboundProxy, ...this.targets.peers()]) }),
      },
      logger.child({ component: 'sip' }),
    );
    this.prober = new TargetProber(this.targets, (rq, h, opts) => this.stack.sendRequest(rq, h, opts), this.cfg.domain, this.cfg.targetProbeIntervalMs, logger);
    const digest = new DigestCredentialCache({ maxAgeMs: this.cfg.preemptiveAuthMaxAgeS * 1000, maxEntries: PREEMPTIVE_AUTH_MAX_ENTRIES });
    const core: UserAgentCore = { stack: this.stack, logger, isClosed: () => this.closed, proxyName: this.cfg.outboundProxy, digest };
    const contactFor = (user: string): string => this.contactFor(user);
    this.nonInvite = new NonInviteClient(core);
    this.registrar = new RegisterClient(core, this.nonInvite, this.cfg.domain, contactFor, this.cfg.imsProfile);
    this.subscriber = new SubscribeClient(this.nonInvite, this.cfg.domain, contactFor);
    // RFC 4028: the session timers of the calls this instance holds report through the port's events
    this.sessionTimers = new SessionTimers(
      { refreshDue: (callId, localTag) => this.emit('dialog.refresh-due', { callId, localTag }), expired: (callId, localTag) => this.emit('dialog.expired', { callId, localTag }) },
      logger.child({ component: 'sip' }),
      this.stack.timers.sessionTimerUnitMs,
    );
    const sessionTimer = { expiresS: this.cfg.sessionExpiresS, minSeS: this.cfg.minSeS };
    // §14.1: our offer waits for a far-end one at most 64·T1 (its 2xx then timed out)
    this.inDialog = new InDialogClient(core, Math.random, this.sessionTimers, new OfferExchanges(64 * this.stack.timers.t1));
    this.inviteClient = new InviteClient(core, this.inDialog, this.cfg.rel100, sessionTimer, this.sessionTimers);
    this.server = new UserAgentServer(core, this, this.inDialog, contactFor, this.cfg.rel100, this.stack.timers.t1, sessionTimer, this.sessionTimers);
  }

  async onModuleInit(): Promise<void> {
    await this.start();
  }

  /** Last of the shutdown hooks, so that features can still un-REGISTER and hang up before it (beforeApplicationShutdown). */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Binds the socket (idempotent). */
  start(): Promise<void> {
    this.started ??= (async () => {
      // a DNS failure is logged and retried (requests fail meanwhile): the gateway still starts
      await this.targets.refresh();
      await this.stack.start({
        onRequest: (rq, tx) => this.server.onRequest(rq, tx),
        onAck: (rq, matched) => this.server.onAck(rq, matched),
        on2xxTimeout: (callId, localTag) => this.server.on2xxTimeout(callId, localTag),
      });
      this.prober.start();
      this.logger.info({ listen: `${this.cfg.listenAddress}:${this.cfg.listenPort}`, transport: this.cfg.transport, proxy: this.cfg.outboundProxy }, 'SIP stack listening');
    })();
    return this.started;
  }

  /** Idempotent: stops every SIP timer and closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.prober.stop();
    this.inviteClient.clear();
    this.server.clear();
    this.sessionTimers.clear();
    this.inDialog.exchanges.clear();
    await this.started?.catch(() => undefined);
    await this.stack.close();
  }

  isListening(): boolean {
    return this.stack.listening;
  }

  /** Our Contact for a user part (RFC 3261 §8.1.1.8). */
  contactFor(user: string): string {
    if (!USER_PART.test(user)) throw new SipSyntaxError('contact user contains characters not allowed in a SIP URI user part');
    return contactTransport(this.cfg.transport, this.cfg.outboundProxy, `${user}@${this.hostPort}`);
  }

  register(target: RegistrationTarget): Promise<RegistrationGrant> {
    return this.registrar.register(target);
  }

  unregister(target: RegistrationTarget & { binding: RegistrationBinding }): Promise<void> {
    return this.registrar.unregister(target);
  }

  subscribeRegEvent(target: RegEventTarget): Promise<RegEventGrant> {
    return this.subscriber.subscribe(target);
  }

  async invite(call: OutgoingCall, onSignal: (signal: CallSignal) => void): Promise<CallHandle> {
    return this.inviteClient.invite(call, this.contactFor(call.contactUser), onSignal);
  }

  progress(key: string, progress: Progress): void {
    this.server.progress(key, progress);
  }

  answer(key: string, sdp: string): void {
    this.server.answer(key, sdp);
  }

  reject(key: string, cause: RejectCause): void {
    this.server.reject(key, cause);
  }

  rejectStored(dialog: DialogState, cause: RejectCause): boolean {
    const { code, reason } = REJECT_RESPONSES[cause];
    if (!dialog.inviteServer || dialog.role !== 'uas') return false;
    try {
      const rs = storedFinalResponse({ ...dialog, inviteServer: dialog.inviteServer }, code, reason);
      const top = rs.headers.via?.[0];
      if (!top) return false;
      const to = storedResponseTarget(top);
      const wire = this.stack.sendStateless(rs, to);
      // RFC 3261 §17.2.1: on UDP a final response is retransmitted (Timer G); without the transaction
      // there is no ACK to stop it, so a few retransmissions only (the proxy absorbs duplicates)
      if (this.cfg.transport === 'udp') for (const n of [1, 2, 4]) setTimeout(() => !this.closed && this.stack.resend(wire, rs, to), n * this.stack.timers.t1).unref();
      this.logger.info({ callId: dialog.callId, status: code, to: `${to.address}:${to.port}` }, 'final response to an INVITE of a lost instance sent from the stored request');
      return true;
    } catch (err) {
      this.logger.warn({ err, callId: dialog.callId }, 'stored INVITE unusable: no final response sent');
      return false;
    }
  }

  takeOver(dialog: DialogState): DialogState {
    const user = uriUser(dialog.localContact);
    let localContact = dialog.localContact;
    try {
      if (user !== undefined) localContact = this.contactFor(user);
    } catch {
      // a Contact user we could not have made: the dialog keeps its Contact
    }
    const t = dialog.sessionTimer;
    if (t && dialog.state === 'confirmed') this.sessionTimers.arm(dialog.callId, dialog.localTag, { intervalS: t.intervalS, refresher: t.refresher }, t.allowsUpdate);
    return { ...dialog, localContact };
  }

  /**
   * CANCEL while our INVITE is pending (RFC 3261 §9.1: role uac, early, with the INVITE's data),
   * BYE otherwise (§15). Best effort: failures are logged, never thrown.
   */
  async hangUp(dialog: DialogState, credentials?: SipCredentials): Promise<void> {
    try {
      if (dialog.role === 'uac' && dialog.state === 'early' && dialog.invite) {
        this.inviteClient.cancel(dialog);
        return;
      }
      const res = await this.inDialog.bye(dialog, credentials);
      if (res.code >= 300) this.logger.warn({ callId: dialog.callId, status: res.code }, 'BYE refused');
    } catch (err) {
      this.logger.warn({ err, callId: dialog.callId }, 'hang-up failed');
    }
  }

  modify(dialog: DialogState, change: MediaChange, credentials?: SipCredentials): Promise<ModifyResult> {
    return this.inDialog.modify(dialog, change, credentials);
  }

  refreshSession(dialog: DialogState, localSdp: string | undefined, credentials?: SipCredentials): Promise<ModifyResult> {
    return this.inDialog.refresh(dialog, localSdp, credentials);
  }

  sendLocation(dialog: DialogState, update: LocationUpdate, credentials?: SipCredentials): Promise<LocationResult> {
    return this.inDialog.sendLocation(dialog, update, credentials);
  }

  /** OPTIONS to the outbound proxy (keepalive and health check): to every target when it has several, else like any request. */
  async ping(): Promise<number> {
    // several P-CSCFs: ready while any of them answers (a dead primary is only noticed after Timer F)
    if (this.targets.peers().length > 1) return this.prober.pingAny().catch((err: Error) => Promise.reject(new SipFailure('timeout', err.message)));
    const target = `sip:${hostForUri(this.proxy.host)}${this.proxy.port !== undefined ? `:${this.proxy.port}` : ''}`;
    const { response } = await this.nonInvite.transact(optionsRequest(target, this.cfg.domain), undefined);
    return response.status ?? 0;
  }

  override outboundTargets(): OutboundTargetStatus[] {
    return this.targets.status();
  }
}
