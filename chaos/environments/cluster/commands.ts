// Runs the ip and iptables commands the mini-cluster is made of; a failure names the command and its stderr.
import { execFile, execFileSync } from 'node:child_process';

export function run(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** A command inside a network namespace. */
export function runIn(netns: string, command: string, args: string[], input?: string): Promise<string> {
  return run('ip', ['netns', 'exec', netns, command, ...args], input);
}

/** For the process 'exit' hook, where nothing asynchronous runs any more; failures are ignored. */
export function runNow(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 5000 });
  } catch {
    // already gone, or nothing more to do at exit
  }
}
