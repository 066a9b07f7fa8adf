// RESP set commands. (in progress)
import type { CommandSpec } from '../types.js';
export const respSetCommands: CommandSpec[] = [];
