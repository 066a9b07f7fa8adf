// Differential: BGSAVE and SHUTDOWN's replies against a real redis-server,
// byte for byte, where they do not depend on timing (a save still running
// on one server and not on the other): the start of a background save,
// syntax errors, SHUTDOWN ABORT with no shutdown in progress, SHUTDOWN inside
// MULTI. The saves themselves, -MISCONF and the shutdowns that stop a server
// are in test/bgsave.test.ts.
import { describe, test } from 'vitest';
import { useServers } from './harness.js';

describe('BGSAVE and SHUTDOWN replies', () => {
  const s = useServers();

  test('a background save starts; argument errors', () =>
    s.same([
      ['SET', 'k', 'v'],
      ['BGSAVE'],
      ['BGSAVE', 'now'],
      ['BGSAVE', 'schedule', 'x'],
      ['SHUTDOWN', 'foo'],
      ['SHUTDOWN', 'nosave', 'save'],
      ['SHUTDOWN', 'abort', 'now'],
      ['SHUTDOWN', 'abort', 'nosave'],
      ['SHUTDOWN', 'ABORT'],
      ['PING'],
    ]));

  test('SHUTDOWN and SAVE are refused inside MULTI', () =>
    s.same([
      ['MULTI'],
      ['SHUTDOWN'],
      ['SAVE'],
      ['SET', 'a', '1'],
      ['EXEC'],
      ['GET', 'a'],
    ]));
});
