// Shared command-line plumbing of the bench's helper servers: flags in, one JSON "listening" line out.
import type { AddressInfo } from 'node:net';

/** Value of `--name VALUE`; exits with a clear message when a required flag is missing. */
export function readFlag(name: string, fallback?: string): string {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? fallback : process.argv[index + 1];
  if (value === undefined || value.startsWith('--')) {
    process.stderr.write(`${process.argv[1]}: missing value for --${name}\n`);
    process.exit(2);
  }
  return value;
}

/** The harness waits for this line to learn the OS-assigned port. */
export function announceListening(address: AddressInfo | string | null): void {
  if (address === null || typeof address === 'string') throw new Error('expected a TCP listener');
  process.stdout.write(`${JSON.stringify({ msg: 'listening', address: `${address.address}:${address.port}` })}\n`);
}
