import type { AddressInfo } from 'node:net';

/** "127.0.0.1:15001" or "[::1]:15001": what a server actually bound, as logged and reported. */
export function boundAddress(info: AddressInfo): string {
  return `${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}`;
}
