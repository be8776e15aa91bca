// CAMARA WebRTC demo: one page = one device. Only the CAMARA APIs are used (through the demo
// server, which passes them to the gateway); call events arrive as CloudEvents relayed by the
// demo server (webhook in, Server-Sent Events out). Plain browser JavaScript, no build step.
'use strict';
(() => {
  const REG = '/webrtc-registration/v0.4/sessions';
  const CALLS = '/webrtc-call-handling/v0.4/sessions';
  const SUBS = '/webrtc-events/v0.3/subscriptions';
  const EVT = 'org.camaraproject.webrtc-events.v0.';
  const FINAL = ['Terminated', 'Busy', 'Declined', 'NoAnswer', 'NotReachable', 'Failed', 'SessionCancelled'];
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  // lab/tests: offer only loopback ICE candidates (Chromium needs --allow-loopback-in-peer-connection)
  const loopbackOnly = params.get('candidates') === 'loopback';

  /** Everything the page knows; window.demo so that tests (and curious developers) can read it. */
  const state = { number: '', token: '', deviceId: '', registrationId: '', channel: '', identities: [], session: null, last: null, invitation: null, log: [] };
  window.demo = state;

  function log(text) {
    const line = `${new Date().toISOString().slice(11, 23)} ${text}`;
    state.log.push(line);
    const li = document.createElement('li');
    li.textContent = line;
    $('log').prepend(li);
  }

  async function api(method, path, body, headers = {}) {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${state.token}`, ...(body && { 'content-type': 'application/json' }), ...headers },
      ...(body && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    if (!res.ok) throw new Error(`${method} ${path.split('/').slice(0, 3).join('/')}: ${res.status} ${(json && json.code) || ''} ${(json && json.message) || ''}`);
    return json;
  }

  function tel(n) {
    return /^(tel|sip|sips|urn):/.test(n) ? n : `tel:${n}`;
  }

  // ---------------------------------------------------------------- registration + events
  async function loadIdentities() {
    const res = await fetch('/lab/identities');
    const { identities, callees } = res.ok ? await res.json() : { identities: [], callees: [] };
    state.identities = identities;
    if (identities.length === 0) {
      $('token-label').hidden = false;
      $('number').hidden = true;
    }
    identities.forEach((id, i) => $('number').add(new Option(`${id.number}${id.label ? ` (${id.label})` : ''}`, String(i))));
    const want = params.get('number');
    const idx = identities.findIndex((id) => id.number === want);
    if (idx >= 0) $('number').value = String(idx);
    for (const c of [...identities.map((id) => ({ number: id.number, label: id.label || '' })), ...callees]) {
      const o = document.createElement('option');
      o.value = c.number;
      o.label = c.label;
      $('callees').append(o);
    }
  }

  async function register() {
    if (state.identities.length > 0) {
      const id = state.identities[Number($('number').value)];
      state.number = id.number;
      state.token = id.token;
    } else {
      state.token = $('token').value.trim();
      const claims = JSON.parse(atob(state.token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      state.number = claims.phone_number;
    }
    state.deviceId = crypto.randomUUID();
    const reg = await api('POST', REG, { deviceId: state.deviceId });
    state.registrationId = reg.registrationId;
    state.channel = crypto.randomUUID();
    const events = new EventSource(`/relay/${state.channel}/events`);
    await new Promise((resolve, reject) => {
      events.onopen = resolve;
      events.onerror = () => reject(new Error('event relay unreachable'));
    });
    events.onerror = () => log('event relay: connection lost, retrying');
    events.onmessage = (m) => onEvent(JSON.parse(m.data)).catch((e) => log(`error: ${e.message}`));
    await api('POST', SUBS, {
      protocol: 'HTTP',
      sink: `${location.origin}/relay/${state.channel}`,
      types: [`${EVT}session-invitation`, `${EVT}session-status`],
      config: { subscriptionDetail: { deviceId: state.deviceId } },
    });
    $('registration').textContent = `registered as ${state.number}`;
    $('registration').dataset.state = 'active';
    $('register').disabled = true;
    $('number').disabled = true;
    $('call').disabled = false;
    log(`registered ${state.number} (registrationId ${reg.registrationId.slice(0, 8)}…), subscribed to call events`);
  }

  const seen = new Set();

  async function onEvent(ce) {
    // delivery is at least once: a CloudEvent id seen before is a duplicate
    if (seen.has(ce.id)) return;
    seen.add(ce.id);
    const type = String(ce.type).slice(EVT.length);
    const d = ce.data || {};
    log(`event ${type}${d.status ? ` ${d.status}` : ''}`);
    if (type === 'session-invitation') {
      if (state.session) return void api('PUT', `${CALLS}/${d.mediaSessionId}/status`, { status: 'Declined' }).catch(() => undefined);
      state.invitation = d;
      $('caller').textContent = d.originatorAddress;
      $('incoming').hidden = false;
      await api('PUT', `${CALLS}/${d.mediaSessionId}/status`, { status: 'Ringing' });
      return;
    }
    if (type !== 'session-status') return;
    const s = state.session;
    if (state.invitation && state.invitation.mediaSessionId === d.mediaSessionId && FINAL.includes(d.status)) {
      state.invitation = null;
      $('incoming').hidden = true;
      setStatus(d.status);
      return;
    }
    if (!s) return;
    if (!s.id) return void s.early.push(d); // the POST has not returned yet
    if (s.id === d.mediaSessionId) await apply(s, d);
  }

  // ---------------------------------------------------------------- the call
  async function newSession(direction, peer) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'balanced', rtcpMuxPolicy: 'require' });
    const track = stream.getAudioTracks()[0];
    const s = { id: '', direction, peer, pc, track, sender: null, status: 'Initial', answered: false, paused: false, early: [], stats: { packetsReceived: 0, packetsSent: 0 } };
    pc.ontrack = (e) => {
      $('remote').srcObject = e.streams[0] || new MediaStream([e.track]);
    };
    pc.onconnectionstatechange = () => log(`peer connection ${pc.connectionState}`);
    state.session = s;
    state.last = s;
    $('peer').textContent = `${direction === 'outgoing' ? 'to' : 'from'} ${peer}`;
    return s;
  }

  /** Non-trickle: the SDP goes to the gateway once ICE gathering is complete (or after 5 s). */
  async function gatheredSdp(pc) {
    if (pc.iceGatheringState !== 'complete') {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 5000);
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') {
            clearTimeout(timer);
            resolve();
          }
        });
      });
    }
    let sdp = pc.localDescription.sdp;
    if (loopbackOnly) {
      const lines = sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || / udp \d+ 127\.0\.0\.1 \d+ typ host/i.test(l));
      const cand = lines.find((l) => l.startsWith('a=candidate:'));
      const port = cand ? cand.split(' ')[5] : null;
      sdp = lines.map((l) => (l.startsWith('c=IN IP4 ') ? 'c=IN IP4 127.0.0.1' : port && l.startsWith('m=audio ') ? l.replace(/^m=audio \d+/, `m=audio ${port}`) : l)).join('\r\n');
    }
    return sdp;
  }

  async function call() {
    const to = $('callee').value.trim();
    if (!to) return;
    const s = await newSession('outgoing', to);
    s.sender = s.pc.addTrack(s.track, new MediaStream([s.track]));
    await s.pc.setLocalDescription(await s.pc.createOffer());
    const sdp = await gatheredSdp(s.pc);
    setStatus('Initial');
    const res = await api('POST', CALLS, { originatorAddress: tel(state.number), receiverAddress: tel(to), offer: { sdp } }, { registrationid: state.registrationId });
    s.id = res.mediaSessionId;
    log(`calling ${to} (mediaSessionId ${s.id.slice(0, 8)}…)`);
    for (const d of s.early.splice(0).filter((e) => e.mediaSessionId === s.id)) await apply(s, d);
  }

  async function answer() {
    const inv = state.invitation;
    if (!inv) return;
    state.invitation = null;
    $('incoming').hidden = true;
    const s = await newSession('incoming', inv.originatorAddress);
    s.id = inv.mediaSessionId;
    await s.pc.setRemoteDescription({ type: 'offer', sdp: inv.offer.sdp });
    s.sender = s.pc.addTrack(s.track, new MediaStream([s.track]));
    await s.pc.setLocalDescription(await s.pc.createAnswer());
    const sdp = await gatheredSdp(s.pc);
    const res = await api('PUT', `${CALLS}/${s.id}/status`, { status: 'Connected', answer: { sdp } });
    await apply(s, res);
  }

  async function decline() {
    const inv = state.invitation;
    state.invitation = null;
    $('incoming').hidden = true;
    if (inv) await api('PUT', `${CALLS}/${inv.mediaSessionId}/status`, { status: 'Declined' });
  }

  /** A status from an event or an API answer. Hold pauses our sending (replaceTrack), Resume restores it. */
  async function apply(s, d) {
    if (s.ended) return;
    if (s.direction === 'outgoing' && !s.answered && d.answer && d.answer.sdp && ['Connected', 'InProgress'].includes(d.status)) {
      s.answered = true;
      await s.pc.setRemoteDescription({ type: 'answer', sdp: d.answer.sdp });
    }
    if (d.status === 'Hold' && !s.paused) {
      s.paused = true;
      await s.sender.replaceTrack(null);
    } else if ((d.status === 'Resume' || d.status === 'Connected') && s.paused) {
      s.paused = false;
      await s.sender.replaceTrack(s.track);
    }
    s.status = d.status;
    setStatus(d.status);
    if (FINAL.includes(d.status)) end(s);
  }

  function end(s) {
    s.ended = true;
    s.pc.close();
    s.track.stop();
    if (state.session === s) state.session = null;
    buttons();
  }

  async function change(status) {
    const s = state.session;
    if (!s) return;
    await apply(s, await api('PUT', `${CALLS}/${s.id}/status`, { status }));
  }

  async function hangUp() {
    const s = state.session;
    if (!s || !s.id) return;
    await api('DELETE', `${CALLS}/${s.id}`);
    // the status event (Terminated / SessionCancelled) ends it; the GET covers a lost event
    const after = await api('GET', `${CALLS}/${s.id}`).catch(() => ({ status: 'Terminated' }));
    if (FINAL.includes(after.status)) await apply(s, after);
  }

  function setStatus(status) {
    $('status').textContent = status;
    $('status').dataset.status = status;
    buttons();
  }

  function buttons() {
    const s = state.session;
    const live = !!s && !s.ended;
    $('call').disabled = !state.registrationId || live;
    $('hangup').disabled = !live || !s.id;
    $('hold').disabled = !live || !['Connected', 'Resume'].includes(s.status);
    $('resume').disabled = !live || s.status !== 'Hold';
  }

  // ---------------------------------------------------------------- live figures
  async function inbound() {
    const s = state.session || state.last;
    if (!s || s.pc.connectionState === 'closed') return s ? s.stats : null;
    const report = await s.pc.getStats();
    const out = { packetsReceived: 0, bytesReceived: 0, packetsLost: 0, jitter: null, packetsSent: 0, codec: '', rtt: null, transport: '' };
    let codecId = '';
    report.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        Object.assign(out, { packetsReceived: r.packetsReceived || 0, bytesReceived: r.bytesReceived || 0, packetsLost: r.packetsLost || 0, jitter: r.jitter ?? null });
        codecId = r.codecId || codecId;
      }
      if (r.type === 'outbound-rtp' && r.kind === 'audio') out.packetsSent = r.packetsSent || 0;
      if (r.type === 'transport') out.transport = `${r.iceState || ''} / ${r.dtlsState || ''}`;
      if (r.type === 'candidate-pair' && r.nominated && r.currentRoundTripTime !== undefined) out.rtt = r.currentRoundTripTime;
    });
    const codec = codecId && report.get(codecId);
    if (codec) out.codec = `${codec.mimeType} ${codec.clockRate}`;
    s.stats = out;
    return out;
  }
  state.inbound = inbound;

  setInterval(() => {
    inbound()
      .then((st) => {
        if (!st) return;
        $('rx-packets').textContent = String(st.packetsReceived);
        $('rx-bytes').textContent = String(st.bytesReceived);
        $('rx-lost').textContent = String(st.packetsLost);
        $('rx-jitter').textContent = st.jitter === null || st.jitter === undefined ? '–' : `${(st.jitter * 1000).toFixed(1)} ms`;
        $('tx-packets').textContent = String(st.packetsSent);
        $('codec').textContent = st.codec || '–';
        $('transport').textContent = st.transport || '–';
        $('rtt').textContent = st.rtt === null || st.rtt === undefined ? '–' : `${(st.rtt * 1000).toFixed(1)} ms`;
      })
      .catch(() => undefined);
  }, 1000);

  const guard = (fn) => () => fn().catch((e) => log(`error: ${e.message}`));
  $('register').onclick = guard(register);
  $('call').onclick = guard(call);
  $('answer').onclick = guard(answer);
  $('decline').onclick = guard(decline);
  $('hold').onclick = guard(() => change('Hold'));
  $('resume').onclick = guard(() => change('Resume'));
  $('hangup').onclick = guard(hangUp);
  // leaving the page ends its registration (the gateway limits active registrations per number)
  window.addEventListener('pagehide', () => {
    if (!state.registrationId) return;
    void fetch(`${REG}/${state.registrationId}`, { method: 'DELETE', keepalive: true, headers: { authorization: `Bearer ${state.token}` } }).catch(() => undefined);
  });
  loadIdentities().catch((e) => log(`error: ${e.message}`));
})();
