import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/app-config';
import { createApp } from './bootstrap';
import { ROOT_LOGGER, RootLogger } from './common/logging/root-logger';
import { flushLogsSync } from './common/logging/logging.module';
import { armShutdownDeadline } from './common/lifecycle/shutdown-deadline';
import { StoreUnreachableAtBootError } from './common/errors/store-unavailable.error';
import { Cluster } from './cluster/cluster';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const app = await createApp(config);
  const logger = app.get<RootLogger>(ROOT_LOGGER);
  // Log lines are buffered (logging.module.ts): whatever ends the process — the event loop
  // emptying after SIGTERM, process.exit, an uncaught exception — writes the rest synchronously.
  process.on('exit', () => flushLogsSync(logger));
  // Drain (issue 15): before Nest's own shutdown hook runs, the instance stops being ready and
  // refuses new calls; its hooks then end the calls in setup and release the lease.
  const cluster = app.get(Cluster);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.prependListener(signal, () => cluster.drain());
  // Bounded shutdown (SHUTDOWN_TIMEOUT_MS): Nest's shutdown hooks run first; whatever they still
  // wait for after the deadline (a retrying webhook backlog) is left to the next instance.
  armShutdownDeadline(process, config.shutdown.timeoutMs, () => {
    logger.warn({ timeoutMs: config.shutdown.timeoutMs }, 'shutdown did not finish in time; exiting (pending events stay in the store)');
    process.exit(0); // the 'exit' listener above writes the buffered lines
  });
  // Safety net: every promise has its own .catch; one that slips through is a bug to log, not a
  // reason to drop every call in progress (Node would otherwise exit on it).
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection (bug)'));
  await app.listen(config.http.port, config.http.host);
  logger.info({ port: config.http.port, store: config.store.kind, sipProxy: config.sip.outboundProxy }, 'gateway listening');
}

main().catch((err: unknown) => {
  if (err instanceof StoreUnreachableAtBootError) {
    process.stderr.write(`gateway failed to start: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
