// List commands with Redis's names, arguments, replies and errors; served on
// both protocols. (STUB: to be written.)

import type { CommandSpec } from './types.js';

export const listCommands: CommandSpec[] = [];
