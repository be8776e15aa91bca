/**
 * `npm run lab`: the whole lab on this machine, no Docker, on free loopback ports —
 * Redis, Kamailio ("IMS core"), rtpengine (media relay), the SIPp far ends, baresip (a SIP phone),
 * the gateway and the browser demo. Prints the URLs and a first curl; Ctrl-C stops everything.
 *
 * Environment: LAB_DEMO_PORT (fixed port for the demo page), LOG_LEVEL (gateway, default warn).
 * Needs the Debian packages of scripts/install-test-deps.sh.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startDemoLab } from '../test/support/demo-lab';
import { LAB_PHONE } from '../test/support/media-lab';
import { makeLabDir, REPO_ROOT } from '../test/support/proc';

async function main(): Promise<void> {
  const demoPort = Number(process.env.LAB_DEMO_PORT ?? '') || undefined;
  console.log('lab: starting Redis, Kamailio, rtpengine, SIPp far ends, baresip, the gateway and the demo…');
  const lab = await startDemoLab({ redis: true, phone: true, logLevel: process.env.LOG_LEVEL ?? 'warn', ...(demoPort !== undefined && { demoPort }) });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\nlab: ${signal}, stopping everything…`);
    lab.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  // tokens go to files (mode 600), not to the terminal
  const dir = makeLabDir('tokens');
  const tokenFiles = lab.identities.map((id) => {
    const file = join(dir, `${id.number}.jwt`);
    writeFileSync(file, id.token, { mode: 0o600 });
    return { number: id.number, file: relative(REPO_ROOT, file) };
  });
  const first = tokenFiles[0];
  const gw = lab.gatewayBase;
  const sdp = 'v=0\\r\\no=- 1 1 IN IP4 127.0.0.1\\r\\ns=-\\r\\nc=IN IP4 127.0.0.1\\r\\nt=0 0\\r\\nm=audio 40000 RTP/AVP 0\\r\\na=rtpmap:0 PCMU/8000\\r\\n';

  console.log(`
Lab ready (everything on 127.0.0.1).

  Browser demo      ${lab.demo.url}
                    open it in two tabs (or two browsers), register a different number in each,
                    call one from the other; or call the SIP phone ${LAB_PHONE.user}
  Gateway REST      ${gw}   (OpenAPI: ${gw}/docs, metrics: ${gw}/metrics)
  Kamailio          sip:127.0.0.1:${lab.lab.kamailio.port} (UDP/TCP), ${lab.lab.kamailio.wsUrl}, domain ${lab.lab.domain}
  rtpengine         ng control udp:127.0.0.1:${lab.rtpengine.ngPort} (anchors calls to/from ${LAB_PHONE.user})
  SIP phone         baresip as ${LAB_PHONE.user}, auto-answers with a 440 Hz tone
  SIPp far ends     ${lab.lab.numbers.answer} answers, ${lab.lab.numbers.busy} busy, ${lab.lab.numbers.noAnswer} rings forever
  Redis             ${lab.lab.redis?.url ?? '(none)'}
  JWKS (lab keys)   ${relative(REPO_ROOT, lab.idp.jwksPath)}  issuer ${lab.idp.issuer}, audience ${lab.idp.audience}
  Tokens            ${tokenFiles.map((t) => `${t.number}: ${t.file}`).join('\n                    ')}
  Logs              test/.lab/

A first call with curl (${first?.number ?? ''} calls the SIPp far end, which answers):

  export TOKEN=$(cat ${first?.file ?? ''})
  REG=$(curl -s -X POST ${gw}/webrtc-registration/v0.4/sessions -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
        -d '{"deviceId":"${randomUUID()}"}' | sed -n 's/.*"registrationId":"\\([^"]*\\)".*/\\1/p')
  curl -s -X POST ${gw}/webrtc-call-handling/v0.4/sessions -H "authorization: Bearer $TOKEN" -H "registrationid: $REG" \\
        -H 'content-type: application/json' \\
        -d '{"originatorAddress":"tel:${first?.number ?? ''}","receiverAddress":"tel:${lab.lab.numbers.answer}","offer":{"sdp":"${sdp}"}}'

Ctrl-C stops everything.`);
}

main().catch((e: unknown) => {
  console.error('lab: failed to start:', e instanceof Error ? e.message : e);
  process.exit(1);
});
