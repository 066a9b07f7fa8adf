// RESP sorted-set commands. (in progress)
import type { CommandSpec } from '../types.js';
export const respZsetCommands: CommandSpec[] = [];
