import { Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { MediaSession, SessionStore } from '../session-store';
import { isFinal } from '../../domain/media-session-status';
import { QuotaExceeded, quotaExceeded } from '../quota';

/** In-memory SessionStore: copies on read and write and honours TTLs, like the Redis one. */
@Injectable()
export class MemorySessionStore extends SessionStore {
  private readonly byId = new Map<string, { s: MediaSession; until: number }>();
  private readonly byCallId = new Map<string, string>();

  constructor(private readonly clock: Clock = Clock.system) {
    super();
  }

  private live(id: string): MediaSession | undefined {
    const e = this.byId.get(id);
    if (!e) return undefined;
    if (e.until <= this.clock.now()) {
      this.byId.delete(id);
      if (e.s.dialog && this.byCallId.get(dialogKey(e.s.dialog)) === id) this.byCallId.delete(dialogKey(e.s.dialog));
      return undefined;
    }
    return e.s;
  }

  async create(session: MediaSession, ttlMs: number, maxPerNumber = 0): Promise<QuotaExceeded | undefined> {
    // no await between the count and the insert: atomic on the event loop
    if (maxPerNumber > 0 && !isFinal(session.status)) {
      const active = this.activeByNumber(session.phoneNumber);
      if (active >= maxPerNumber) return quotaExceeded(active, maxPerNumber);
    }
    const s = { ...structuredClone(session), version: 1 };
    this.byId.set(s.mediaSessionId, { s, until: this.clock.now() + ttlMs });
    if (s.dialog) this.byCallId.set(dialogKey(s.dialog), s.mediaSessionId);
    return undefined;
  }

  async get(id: string): Promise<MediaSession | undefined> {
    const s = this.live(id);
    return s && structuredClone(s);
  }

  async findByDialog(callId: string, localTag: string): Promise<MediaSession | undefined> {
    const id = this.byCallId.get(`${callId}|${localTag}`);
    return id ? this.get(id) : undefined;
  }

  async update(next: MediaSession, expectedVersion: number, ttlMs: number): Promise<MediaSession | undefined> {
    const cur = this.live(next.mediaSessionId);
    if (!cur || cur.version !== expectedVersion) return undefined;
    const s = { ...structuredClone(next), version: expectedVersion + 1 };
    this.byId.set(s.mediaSessionId, { s, until: this.clock.now() + ttlMs });
    if (s.dialog) this.byCallId.set(dialogKey(s.dialog), s.mediaSessionId);
    return structuredClone(s);
  }

  async countActive(): Promise<number> {
    let n = 0;
    for (const id of this.byId.keys()) {
      const s = this.live(id);
      if (s && !isFinal(s.status)) n++;
    }
    return n;
  }

  async countActiveByNumber(phoneNumber: string): Promise<number> {
    return this.activeByNumber(phoneNumber);
  }

  private activeByNumber(phoneNumber: string): number {
    let n = 0;
    for (const id of this.byId.keys()) {
      const s = this.live(id);
      if (s && s.phoneNumber === phoneNumber && !isFinal(s.status)) n++;
    }
    return n;
  }
}

const dialogKey = (d: { callId: string; localTag: string }): string => `${d.callId}|${d.localTag}`;
