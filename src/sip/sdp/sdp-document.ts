/**
 * A line-level model of an SDP (RFC 8866 §5): the session-level lines, then one
 * block of lines per m-section, each block starting with its `m=` line.
 *
 * NOTE: we serialise from this model rather than with `sdp-transform`'s `write()`:
 * `write()` is lossy for real-world SDPs. It regroups attributes by grammar order,
 * drops `k=` lines and lines it has no grammar for, truncates
 * `a=ice-options:trickle renomination` to `trickle` and drops candidate extensions
 * after an unknown one (`... generation 0 ufrag x network-id 3` loses `network-id`).
 * A gateway must not change what it relays, so order and content are kept as
 * received; `sdp-transform` is used for the structured read-only view.
 */
import { SdpError } from './sdp.error';

export interface SdpDocument {
  /** Lines before the first `m=` line, `v=` first. */
  readonly session: string[];
  /** One entry per m-section; `lines[0]` is the `m=` line. */
  readonly media: string[][];
}

/** Splits already validated lines into session and media blocks. */
export function toDocument(lines: readonly string[]): SdpDocument {
  const doc: SdpDocument = { session: [], media: [] };
  let current = doc.session;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      current = [line];
      doc.media.push(current);
    } else {
      current.push(line);
    }
  }
  return doc;
}

/** Splits SDP text into lines, accepting CRLF, LF or CR (RFC 8866 §5: parsers SHOULD accept LF). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/**
 * Tolerant read of SDP text we already accepted once (our own or a stored one):
 * no validation beyond dropping blank lines.
 */
export function readDocument(text: string): SdpDocument {
  return toDocument(
    splitLines(text)
      .map(trimLineEnd)
      .filter((l) => l.length > 0),
  );
}

/** The canonical serialisation: lines joined and terminated by CRLF (RFC 8866 §5). */
export function writeDocument(doc: SdpDocument): string {
  return [...doc.session, ...doc.media.flat()].join('\r\n') + '\r\n';
}

/** Removes trailing spaces, tabs and NULs; keeps `s= ` (RFC 8866 §5.3: "s= " for no name). */
export function trimLineEnd(line: string): string {
  const trimmed = line.replace(/[ \t\0]+$/, '');
  return trimmed === 's=' ? 's= ' : trimmed;
}

/** The `a=` attribute name of a line (`a=rtpmap:0 PCMU/8000` → `rtpmap`), or undefined. */
export function attributeName(line: string): string | undefined {
  if (!line.startsWith('a=')) return undefined;
  const colon = line.indexOf(':');
  return colon === -1 ? line.slice(2) : line.slice(2, colon);
}

/** Fields of an `m=` line (RFC 8866 §5.14). */
export interface MediaLine {
  readonly media: string;
  readonly port: number;
  readonly portCount: number | undefined;
  readonly proto: string;
  readonly formats: readonly string[];
}

const M_LINE = /^m=(\S+) (\d{1,10})(?:\/(\d{1,10}))? (\S+)((?: \S+)+)$/;

/** Parses an `m=` line; undefined if it is not of the RFC 8866 §5.14 form. */
export function parseMediaLine(line: string): MediaLine | undefined {
  const m = M_LINE.exec(line);
  if (!m || m[1] === undefined || m[2] === undefined || m[4] === undefined || m[5] === undefined) return undefined;
  return {
    media: m[1],
    port: Number(m[2]),
    portCount: m[3] === undefined ? undefined : Number(m[3]),
    proto: m[4],
    formats: m[5].trim().split(' '),
  };
}

/** Writes an `m=` line back. */
export function formatMediaLine(m: MediaLine): string {
  const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
  return `m=${m.media} ${port} ${m.proto} ${m.formats.join(' ')}`;
}

/** The `m=` line of a block, which `toDocument` guarantees exists. */
export function mLineOf(block: readonly string[]): string {
  const first = block[0];
  if (first === undefined || !first.startsWith('m=')) throw new SdpError('SDP m-section has no m= line');
  return first;
}
