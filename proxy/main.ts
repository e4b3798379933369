/** Starts Breakwater: admin server, policy runtime, policy watcher, and the signals that drain or reload it. */
import { checkPolicyFile } from './config/policy-check.js';
import { PolicyError } from './config/policy-error.js';
import { tuneGarbageCollector } from './runtime/gc-tuning.js';
import { Runtime } from './runtime/runtime.js';
import { PolicyWatcher } from './runtime/policy-watcher.js';
import { startAdmin } from './admin/admin.js';
import { createLoggers } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';

/** Runs until drained; resolves to the process exit code. */
export async function runProxy(file: string): Promise<number> {
  tuneGarbageCollector();
  let policy;
  try {
    policy = await checkPolicyFile(file);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    console.error(err.message);
    return 1;
  }
  const loggers = createLoggers(policy.log.level);
  const log = loggers.log;
  const metrics = new Metrics();
  let runtime: Runtime | undefined;
  let admin;
  try {
    admin = await startAdmin(policy.admin.address, () => runtime, metrics, log);
    runtime = await Runtime.start(file, metrics, loggers, policy);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot start');
    await admin?.close();
    loggers.flush();
    return 1;
  }
  const started = runtime;
  const watcher = new PolicyWatcher(file, () => void started.reload('file-watch'), {
    onError: (err) => log.warn({ err: err.message }, 'policy watch failed; polling continues'),
  });
  await watcher.start();
  log.info({ config: file, admin: admin.address, listeners: started.listenerAddresses() }, 'breakwater ready');

  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (signal: string, skipDelay: boolean) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        loggers.flush();
        return resolve(1);
      }
      stopping = true;
      watcher.stop();
      log.info({ signal }, 'shutting down');
      await started.drain(skipDelay);
      await admin.close();
      loggers.flush();
      resolve(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM', false));
    process.on('SIGINT', () => void stop('SIGINT', true));
    process.on('SIGHUP', () => void started.reload('SIGHUP'));
  });
}
