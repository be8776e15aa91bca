import type { SipMessage, SipVia } from 'sip';
import { generateBranch } from '../sip-syntax';
import type { SipProtocol } from '../transport';

/** Via handling and the keys transactions are matched on (RFC 3261 §17.1.3, §17.2.3). */

const VIA_RE = /^SIP\s*\/\s*(\d+\.\d+)\s*\/\s*(\S+)\s+([^\s;:]+)(?:\s*:\s*(\d+))?\s*((?:;.*)?)$/i;

/** Parses one Via value (our own, stored as text) into the package's shape. */
export function parseVia(text: string): SipVia | undefined {
  const m = VIA_RE.exec(text.trim());
  if (!m || !m[2] || !m[3]) return undefined;
  const params: Record<string, string | null> = {};
  for (const p of (m[5] ?? '').split(';')) {
    if (!p.trim()) continue;
    const eq = p.indexOf('=');
    if (eq < 0) params[p.trim().toLowerCase()] = null;
    else params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
  }
  return { version: m[1], protocol: m[2], host: m[3], port: m[4] ? Number(m[4]) : undefined, params };
}

export function viaText(via: SipVia): string {
  let s = `SIP/2.0/${via.protocol.toUpperCase()} ${via.host}${via.port ? `:${via.port}` : ''}`;
  for (const [k, v] of Object.entries(via.params)) s += v === null || v === undefined ? `;${k}` : `;${k}=${String(v)}`;
  return s;
}

/** Our Via for a new request: a fresh strong branch, `rport` on UDP (RFC 3581: responses to the source port). */
export function newVia(protocol: SipProtocol, host: string, port: number): SipVia {
  return { version: '2.0', protocol, host, port, params: { branch: generateBranch(), ...(protocol === 'UDP' ? { rport: null } : {}) } };
}

export function branchOf(m: SipMessage): string {
  const b = m.headers.via?.[0]?.params.branch;
  return typeof b === 'string' ? b : '';
}

export function sentBy(m: SipMessage): string {
  const v = m.headers.via?.[0];
  return v ? `${v.host}:${v.port ?? ''}` : '';
}

export function toTagOf(m: SipMessage): string | undefined {
  const t = m.headers.to?.params.tag;
  return typeof t === 'string' && t !== '' ? t : undefined;
}
