import type { Logger } from 'pino';

/**
 * DI token for the process-wide pino logger (Nest's own messages and the access lines go through it too).
 * Work the network starts (incoming SIP, timers) logs through `logger.child({ callId, ... })`.
 */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
export type RootLogger = Logger;
