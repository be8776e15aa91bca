/**
 * The smallest call lab: one SIPp far end (a scenario of test/scenarios) behind the lab Kamailio, a
 * gateway on the in-memory store, and an app registered on it with a sink for its events.
 *
 *   const rig = await startFarEndRig('uas-glare-491-then-200', { name: 'glare', phoneNumber: ALICE, events: ['session-status'] });
 *   ... rig.gw.request(...), SipExchange.start(rig.uas), rig.app.sink.waitFor(...) ...
 *   await rig.stop();
 */
import { createTestIdp } from './auth';
import { registerApp, RegisteredApp } from './camara-app';
import { GatewayUnderTest, startGateway } from './gateway';
import { KamailioInstance, Lab, LAB_DOMAIN, SippUas, startKamailio, startSippUas } from './lab';

export interface FarEndRig {
  readonly uas: SippUas;
  readonly kamailio: KamailioInstance;
  readonly gw: GatewayUnderTest;
  readonly app: RegisteredApp;
  stop(): Promise<void>;
}

export async function startFarEndRig(scenario: string, opts: { name: string; phoneNumber: string; events: readonly string[]; env?: Record<string, string> }): Promise<FarEndRig> {
  const uas = await startSippUas(scenario, { name: opts.name });
  let kamailio: KamailioInstance | undefined;
  let gw: GatewayUnderTest | undefined;
  try {
    kamailio = await startKamailio({ uasPort: uas.port });
    const idp = await createTestIdp();
    // no Redis: the gateway needs only the proxy of the lab
    gw = await startGateway({ kamailio, domain: LAB_DOMAIN, redis: null } as unknown as Lab, idp, opts.env);
    const app = await registerApp(gw, idp, opts.phoneNumber, opts.events);
    const [k, g] = [kamailio, gw];
    return {
      uas,
      kamailio: k,
      gw: g,
      app,
      async stop() {
        await g.close();
        await app.close();
        await Promise.allSettled([uas.stop(), k.stop()]);
      },
    };
  } catch (err) {
    await gw?.close();
    await Promise.allSettled([uas.stop(), kamailio?.stop()]);
    throw err;
  }
}
