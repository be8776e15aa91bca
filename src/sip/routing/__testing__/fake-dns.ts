import type { NaptrRecord, RecordWithTtl, SrvRecord } from 'node:dns';
import type { DnsClient } from '../rfc3263';

/** An in-memory DnsClient: records by name; a missing name answers ENOTFOUND like Node's Resolver. `queries` lists what was asked. */
export class FakeDns implements DnsClient {
  readonly naptr = new Map<string, NaptrRecord[]>();
  readonly srv = new Map<string, SrvRecord[]>();
  readonly a = new Map<string, RecordWithTtl[]>();
  readonly aaaa = new Map<string, RecordWithTtl[]>();
  readonly queries: string[] = [];
  /** When set, every query rejects with this error code. */
  failWith: string | undefined;

  resolveNaptr(name: string): Promise<NaptrRecord[]> {
    return this.answer('NAPTR', name, this.naptr);
  }
  resolveSrv(name: string): Promise<SrvRecord[]> {
    return this.answer('SRV', name, this.srv);
  }
  resolve4(name: string): Promise<RecordWithTtl[]> {
    return this.answer('A', name, this.a);
  }
  resolve6(name: string): Promise<RecordWithTtl[]> {
    return this.answer('AAAA', name, this.aaaa);
  }

  private answer<T>(type: string, name: string, table: Map<string, T[]>): Promise<T[]> {
    this.queries.push(`${type} ${name}`);
    const records = table.get(name);
    const code = this.failWith ?? (records ? undefined : 'ENOTFOUND');
    if (code) return Promise.reject(Object.assign(new Error(`query${type} ${code} ${name}`), { code }));
    return Promise.resolve(records ?? []);
  }
}

export function naptr(order: number, preference: number, service: string, replacement: string): NaptrRecord {
  return { flags: 's', service, regexp: '', replacement, order, preference };
}

export function srv(priority: number, weight: number, port: number, name: string): SrvRecord {
  return { priority, weight, port, name };
}
