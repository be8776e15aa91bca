/**
 * The Lua scripts of the gateway (one file per store under ./lua/), and the key layout they rely on (names: `keys()` in redis-client.ts).
 *
 * Key layout. `P` is REDIS_KEY_PREFIX (no braces: the config refuses them). Each aggregate's keys
 * share one hash tag, so every key a script touches hashes to the same Redis Cluster slot:
 *
 *   {reg}  registrations   P{reg}:rec:<registrationId>        hash { v, d }
 *                          P{reg}:dev:<phoneNumber>|<deviceId> string registrationId (TTL of the record)
 *                          P{reg}:due                          zset registrationId → refresh due (or lease end)
 *                          P{reg}:num:<phoneNumber>            zset registrationId → expiresAt (the per-number quota)
 *   {ev}   sessions        P{ev}:sess:<mediaSessionId>        hash { v, <property>: JSON … } (one field per property)
 *                          P{ev}:sessdlg:<Call-ID>|<local tag> string mediaSessionId
 *                          P{ev}:sessactive, P{ev}:sessnum:<phone> zsets mediaSessionId → record expiry (Redis time)
 *          subscriptions   P{ev}:sub:<subscriptionId>         hash { v, s: ACTIVE|ENDED, d }
 *          and their       P{ev}:subdev:<phoneNumber>|<deviceId>, P{ev}:subown:<owner>   sets of ids
 *          event queues    P{ev}:subact:<phoneNumber>|<deviceId> zset of ACTIVE ids → endsAt, +inf none (the per-device quota)
 *                          P{ev}:subdue                       zset id → endsAt (or lease end)
 *                          P{ev}:q:<subscriptionId>           list of `<eventId>\n<QueuedEvent JSON>`
 *                          P{ev}:qhead:<subscriptionId>       hash { attempts } of the head
 *                          P{ev}:qseq:<subscriptionId>        counter (CloudEvent sequenceNumber)
 *                          P{ev}:qlease:<subscriptionId>      string owner, PX = lease
 *                          P{ev}:qready                       zset id → when its head is due (or its lease ends)
 *                          P{ev}:qbacklog                     counter of queued events
 *
 * Subscriptions and queues share a tag because one publish (`evFanOut`) reads the device index and
 * records and writes the queues atomically. Sessions share it too: a reported transition is one script
 * (`sessUpdateFanOut`: compare-and-set of the session, then the fan-out of its session-status event),
 * one round trip instead of two, and the transition and its event are persisted together or not at
 * all. The trade-off: on Redis Cluster the sessions, subscriptions and queues are on one node (before,
 * sessions could be on another node than the events); registrations keep their own tag. Splitting
 * the sessions off again would cost a second round trip per reported transition (two scripts,
 * pipelined, not atomic together). One tag per aggregate makes the scripts Cluster-safe, but puts
 * each aggregate on one node: spreading one over several slots would need the global indexes
 * (`due`, `active`, `qready`, `qbacklog`) split per shard.
 *
 * Scripts run as EVALSHA through `scriptRunner` (redis-client.ts), EVAL once when Redis answers
 * NOSCRIPT; nothing is defined on the client.
 *
 * KEYS. Every script declares every key it touches (`keys`: KEYS[1..n] in order, then
 * `keysPerItem` repeated per item, the caller passing numkeys); none is built inside Lua. Scripts
 * that work on the members of an index (the claims, `evFanOut`) get the members the caller read
 * and their keys: the claims re-check each member's score (another instance may have leased it
 * meanwhile); `evFanOut` answers `stale` with the actual ids when the index differs, and the
 * caller asks again.
 *
 * Quotas. regCreate, sessCreate and subCreate take the owner's cap and check it against the
 * owner's index (`num`, `subact`) in the same script as the insert: parallel creates cannot
 * overshoot it. Each answers -n (nothing written) when n records already count.
 *
 * NOTE: these names replace those of earlier versions (the untagged `P reg:…`, `P sub:…`, `P evq:…`,
 * then `P{sess}:…` with the session as one JSON field `d`); state written by an earlier version is not
 * read after an upgrade.
 */

/** One Lua command: its KEYS in order (one name per key); `keysPerItem` repeats after them (caller passes numkeys). */
export interface LuaScript {
  keys: readonly string[];
  keysPerItem?: readonly string[];
  lua: string;
}

export { registrationScripts } from './lua/registration.lua';
export { sessionScripts } from './lua/session.lua';
export { subscriptionScripts, eventQueueScripts } from './lua/events.lua';
