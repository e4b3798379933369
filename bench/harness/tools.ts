// Which external programs this machine has; the harness skips (and says so) what it cannot run.
import { spawnSync } from 'node:child_process';

/** True when the program can be started at all (wrk's -v exits 1, so the exit code is not checked). */
export function commandAvailable(command: string, versionArgs: readonly string[]): boolean {
  const probe = spawnSync(command, versionArgs, { stdio: 'ignore', timeout: 10_000 });
  return probe.error === undefined;
}

export const INSTALL_HINT = 'apt-get install -y nginx-light haproxy wrk';
