import { readFileSync } from 'fs';
import { join } from 'path';
import { decodeMessage, type DecodeOptions } from './message-codec';

/**
 * The decoder's verdict on whole messages (RFC 3261 §7, §8.2.2, §18.3, §20.14), one row per rule:
 * the message it returns, or the 400/505 refusal (reason, top Via, Call-ID and the response text
 * ready to send) or the discard with its reason. Rows and expected verdicts are in
 * __fixtures__/decoder-table.json, reviewed like code.
 */

interface Row {
  label: string;
  text: string;
  options: DecodeOptions;
  decoded: unknown;
}

const rows = JSON.parse(readFileSync(join(__dirname, '__fixtures__', 'decoder-table.json'), 'utf8')) as Row[];

describe('decodeMessage verdicts', () => {
  it.each(rows.map((r) => [r.label, r] as const))('%s', (_label, row) => {
    const d = decodeMessage(Buffer.from(row.text, 'utf8'), row.options);
    const comparable = d.kind === 'bad-request' ? { ...d, response: d.response.toString('utf8') } : d;
    expect(comparable).toStrictEqual(row.decoded);
  });
});
