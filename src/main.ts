import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/app-config';
import { createApp } from './bootstrap';
import { ROOT_LOGGER, RootLogger } from './common/logging/root-logger';

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
  // Safety net: every promise has its own .catch; one that slips through is a bug to log, not a
  // reason to drop every call in progress (Node would otherwise exit on it).
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection (bug)'));
  await app.listen(config.http.port, config.http.host);
  logger.info({ port: config.http.port, store: config.store.kind, sipProxy: config.sip.outboundProxy }, 'gateway listening');
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
