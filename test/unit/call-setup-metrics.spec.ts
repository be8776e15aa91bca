import pino from 'pino';
import { Clock } from '../../src/common/clock';
import { GatewayMetrics } from '../../src/observability/metrics/gateway-metrics';
import { flush, principal, setup } from '../../src/sessions/__testing__/sessions-harness';

/** The call-setup KPIs of real call stories reach the Prometheus metrics (sessions → CallTelemetry → GatewayMetrics). */
describe('call-setup metrics', () => {
  it('records setup time and the outcome of an answered call', async () => {
    const metrics = new GatewayMetrics(Clock.system, pino({ level: 'silent' }));
    const { sessions, reg, body, sip, lastInvite } = await setup({}, metrics);
    const { mediaSessionId } = await sessions.create(principal(), reg.registrationId, body());
    const { callId } = lastInvite();
    sip.signal(callId, { kind: 'provisional', code: 180, reason: 'Ringing' });
    sip.signal(callId, { kind: 'answered', code: 200, reason: 'OK', sdp: 'v=0', dialog: sip.answeredDialog(callId) });
    await flush();
    await sessions.remove(principal(), mediaSessionId);
    const text = await metrics.scrape();
    expect(text).toMatch(/gateway_call_attempts_total\{direction="outgoing"\} 1/);
    expect(text).toMatch(/gateway_call_setup_duration_seconds_count\{direction="outgoing"\} 1/);
    expect(text).toMatch(/gateway_call_post_dial_delay_seconds_count\{direction="outgoing"\} 1/);
    expect(text).toMatch(/gateway_call_outcomes_total\{direction="outgoing",status="Terminated",sip_code="200"\} 1/);
  });

  it('counts a busy call as a failed setup with its SIP code', async () => {
    const metrics = new GatewayMetrics(Clock.system, pino({ level: 'silent' }));
    const { sessions, reg, body, sip, lastInvite } = await setup({}, metrics);
    await sessions.create(principal(), reg.registrationId, body());
    sip.signal(lastInvite().callId, { kind: 'rejected', code: 486, reason: 'Busy Here' });
    await flush();
    const text = await metrics.scrape();
    expect(text).toMatch(/gateway_call_outcomes_total\{direction="outgoing",status="Busy",sip_code="486"\} 1/);
    expect(metrics.callSetupSnapshot().failures[0]).toMatchObject({ status: 'Busy', sipCode: 486 });
  });
});
