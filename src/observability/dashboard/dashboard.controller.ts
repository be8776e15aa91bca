import { Controller, Get, Header, Param, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../../common/auth/scopes.decorator';
import { notFound } from '../../common/errors/api-error';
import { RegistrationStore } from '../../store/registration-store';
import { SessionStore } from '../../store/session-store';
import { SipProbeResult, SipProxyProbe } from '../health/sip-proxy.probe';
import { GatewayMetrics, GAUGE_READ_TIMEOUT_MS } from '../metrics/gateway-metrics';
import type { CallSetupSnapshot } from '../metrics/call-setup-snapshot';
import { withTimeout } from '../metrics/with-timeout';
import { securePageHeaders, VendorAssets } from '../static-assets';
import { DashboardAccessGuard } from './dashboard-access.guard';
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from './dashboard-page';

/** What `GET /dashboard/data` answers. */
export interface DashboardData {
  /** ISO 8601 */
  generatedAt: string;
  /** Call setup as seen by the instance that answered (in memory, last 15 min). */
  calls: CallSetupSnapshot;
  /** From the shared store (all instances); `null` when the store did not answer in time. */
  active: { calls: number | null; registrations: number | null };
  webhookBacklog: number | null;
  /** Last OPTIONS to the outbound proxy (`null` before the first one). */
  sipProxy: SipProbeResult | null;
  /** What could not be read for this answer (`store`, `eventBacklog`). */
  unavailable: string[];
}

const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const VENDOR = new VendorAssets({
  'uPlot.iife.min.js': { module: 'uplot/dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { module: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
});

/**
 * The live call-setup dashboard for on-call engineers. The page, its script and the chart library
 * are public (they hold no data); `/dashboard/data` needs the admin token or a JWT with scope
 * `gateway:dashboard:read` (DashboardAccessGuard).
 */
@Controller('dashboard')
@Public()
export class DashboardController {
  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly sessions: SessionStore,
    private readonly registrations: RegistrationStore,
    private readonly probe: SipProxyProbe,
  ) {}

  @Get()
  page(@Res({ passthrough: true }) reply: FastifyReply): string {
    securePageHeaders(reply, DASHBOARD_CSP);
    void reply.header('content-type', 'text/html; charset=utf-8');
    return DASHBOARD_HTML;
  }

  @Get('app.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  script(): string {
    return DASHBOARD_JS;
  }

  @Get('app.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'no-cache')
  styles(): string {
    return DASHBOARD_CSS;
  }

  @Get('vendor/:file')
  async vendor(@Param('file') file: string, @Res() reply: FastifyReply): Promise<void> {
    if (!(await VENDOR.send(reply, file))) throw notFound(`No dashboard asset ${file.slice(0, 100)}.`);
  }

  @Get('data')
  @UseGuards(DashboardAccessGuard)
  async data(@Res({ passthrough: true }) reply: FastifyReply): Promise<DashboardData> {
    void reply.header('cache-control', 'no-store');
    const unavailable: string[] = [];
    const read = async (what: string, p: Promise<number> | undefined): Promise<number | null> => {
      if (p === undefined) return null;
      try {
        return await withTimeout(p, GAUGE_READ_TIMEOUT_MS, what);
      } catch {
        if (!unavailable.includes(what)) unavailable.push(what);
        return null;
      }
    };
    const [calls, registrations, backlog] = await Promise.all([
      read('store', this.sessions.countActive()),
      read('store', this.registrations.count()),
      read('eventBacklog', this.metrics.readBacklog()),
    ]);
    return {
      generatedAt: new Date().toISOString(),
      calls: this.metrics.callSetupSnapshot(),
      active: { calls, registrations },
      webhookBacklog: backlog,
      sipProxy: this.probe.status() ?? null,
      unavailable,
    };
  }
}
