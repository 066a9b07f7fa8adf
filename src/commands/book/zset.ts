// The book's sorted-set commands: zadd, zrem, zscore, zquery. (STUB: to be written.)

import type { CommandSpec } from '../types.js';

export const bookZsetCommands: CommandSpec[] = [];
