// Protected mode (Redis's): a server listening on a non-loopback address with
// no password would open the keyspace to the network, so it serves only
// loopback clients until a password is set or protected mode is turned off.
// Shared by the syscall server and the libuv twin.

import type { ServerSettings } from './state.js';

/** Whether a numeric address is loopback: 127.0.0.0/8, ::1 or ::ffff:127.x.x.x. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  return a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.') || a === 'localhost';
}

/** Whether non-loopback clients must be refused under these settings. */
export function protectedModeActive(settings: ServerSettings): boolean {
  return settings.protectedMode && settings.requirePass === null && !isLoopback(settings.host);
}

/** What a refused RESP client is told (Redis's text, adapted): the book protocol just closes. */
export const PROTECTED_MODE_REPLY = Buffer.from(
  '-DENIED Redloop is running in protected mode because it listens on a non-loopback address ' +
    'and no password is set. In this mode connections are only accepted from the loopback ' +
    'interface. If you want to connect from other computers, do one of the following: ' +
    "1) restart the server with '--requirepass <password>' and authenticate with AUTH; " +
    "2) restart it with '--host 127.0.0.1' if only local clients need it; " +
    "3) restart it with '--protected-mode no', but MAKE SURE it is not reachable from the " +
    'internet if you do so.\r\n',
  'latin1',
);
