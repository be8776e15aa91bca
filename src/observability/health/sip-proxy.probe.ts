import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ROOT_LOGGER, RootLogger } from '../../common/logging/root-logger';
import { SipGateway } from '../../sip/sip-gateway';
import { Clock } from '../../common/clock';
import { withTimeout } from '../metrics/with-timeout';

/** How often the outbound proxy is sent an OPTIONS (readiness reads the cached answer). */
export const SIP_PROBE_INTERVAL_MS = 10_000;
/** One OPTIONS gets this long (shorter than Timer F: a readiness answer older than that is useless). */
export const SIP_PROBE_TIMEOUT_MS = 4_000;
/** A result older than this (probe loop stuck) no longer counts as "up". */
export const SIP_PROBE_STALE_MS = 3 * SIP_PROBE_INTERVAL_MS;

export interface SipProbeResult {
  ok: boolean;
  /** Status code of the OPTIONS response (any response means the proxy is alive). */
  code?: number;
  error?: string;
  /** epoch ms */
  checkedAt: number;
  /** How long the OPTIONS took, ms. */
  rttMs: number;
}

/**
 * Pings the outbound proxy (P-CSCF) with SIP OPTIONS every 10 s, so that readiness probes (every
 * few seconds, from every kubelet) never generate SIP traffic themselves. Logs each change of
 * state once (warn when it goes down, info when it comes back).
 */
@Injectable()
export class SipProxyProbe implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private last: SipProbeResult | undefined;

  constructor(
    private readonly sip: SipGateway,
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.timer) return;
    void this.probe();
    this.timer = setInterval(() => void this.probe(), SIP_PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The cached answer; a stale one is reported as down. */
  status(): SipProbeResult | undefined {
    const last = this.last;
    if (last && last.ok && this.clock.now() - last.checkedAt > SIP_PROBE_STALE_MS) {
      return { ...last, ok: false, error: `last successful OPTIONS is older than ${SIP_PROBE_STALE_MS / 1000} s` };
    }
    return last;
  }

  /** Runs one OPTIONS now (at most one at a time); resolves when it is done. Never rejects. */
  probe(): Promise<void> {
    this.inFlight ??= this.runOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async runOnce(): Promise<void> {
    const started = this.clock.now();
    let result: SipProbeResult;
    try {
      const code = await withTimeout(this.sip.ping(), SIP_PROBE_TIMEOUT_MS, 'SIP OPTIONS to the outbound proxy');
      result = { ok: true, code, checkedAt: this.clock.now(), rttMs: this.clock.now() - started };
    } catch (err) {
      result = { ok: false, error: err instanceof Error ? err.message : String(err), checkedAt: this.clock.now(), rttMs: this.clock.now() - started };
    }
    const was = this.last?.ok;
    this.last = result;
    if (!result.ok && was !== false) this.logger.warn({ error: result.error }, 'SIP outbound proxy does not answer OPTIONS: gateway not ready');
    if (result.ok && was === false) this.logger.info({ code: result.code, rttMs: result.rttMs }, 'SIP outbound proxy answers OPTIONS again');
  }
}
