import type { CommandSpec } from '../types.js';
export const respGeoCommands: CommandSpec[] = [];
