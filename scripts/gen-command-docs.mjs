#!/usr/bin/env node
// Regenerates src/commands/resp/docs.ts from a running redis-server 7's
// COMMAND DOCS: for each command redloop serves over RESP, Redis's summary,
// version, group, complexity and a one-line syntax. redis-cli shows these in
// `help <command>` and in its input hints. (Redis's command docs are BSD-3 licensed.)
//
//   redis-server --port 6399 --save '' &   node scripts/gen-command-docs.mjs 6399
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { respTable } from '../dist/commands/resp/index.js';
import { encodeCommand, parseReply } from '../dist/protocol/resp.js';

const port = Number(process.argv[2] ?? 6379);
const names = [...new Set([...respTable.commands.values()].map((s) => s.name))].sort();

function call(args) {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parseReply(buf);
      if (r) (sock.destroy(), resolve(r.reply));
    });
    sock.write(encodeCommand(args));
  });
}

/** A reply map (flat array in RESP2) as a JS object; bulk strings become strings. */
function toJs(r) {
  if (r.type === 'bulk') return r.value?.toString() ?? null;
  if (r.type === 'status' || r.type === 'int') return String(r.value);
  if (r.type !== 'array') return null;
  return r.items.map(toJs);
}
function asMap(arr) {
  const o = {};
  for (let i = 0; i < arr.length; i += 2) o[arr[i]] = arr[i + 1];
  return o;
}

/** An argument as redis-cli's help prints it. */
function render(arg) {
  const a = asMap(arg);
  const flags = a.flags ?? [];
  let s;
  if (a.type === 'pure-token') s = a.token;
  else if (a.type === 'oneof') s = a.arguments.map(render).join('|');
  else if (a.type === 'block') s = a.arguments.map(render).join(' ');
  else s = a.name;
  const token = a.token && a.type !== 'pure-token' ? `${a.token} ` : '';
  // WEIGHTS weight [weight ...]; with multiple_token the token repeats too (SORT's GET pattern [GET pattern ...]).
  if (flags.includes('multiple')) s = flags.includes('multiple_token') ? `${token}${s} [${token}${s} ...]` : `${token}${s} [${s} ...]`;
  else s = `${token}${s}`;
  if (flags.includes('optional')) s = `[${s}]`;
  return s;
}

const docs = asMap(toJs(await call(['COMMAND', 'DOCS', ...names])));
const lines = [];
for (const name of names) {
  const d = docs[name] ? asMap(docs[name]) : null;
  if (!d) continue;
  const syntax = (d.arguments ?? []).map(render).join(' ');
  lines.push(`  ${name}: ${JSON.stringify([d.summary ?? '', d.since ?? '', d.group ?? '', d.complexity ?? '', syntax])},`);
}
const out = `// Redis's documentation of the commands redloop serves over RESP (COMMAND DOCS;
// redis-cli prints it in \`help <command>\` and its hints). Generated from
// redis-server ${(await call(['INFO', 'server'])).value.toString().match(/redis_version:(\S+)/)[1]} by scripts/gen-command-docs.mjs.
//
// The summaries, complexities and syntax lines below are Redis's, under its
// BSD 3-clause license: Copyright (c) 2006-2022, Salvatore Sanfilippo and the
// Redis contributors. All rights reserved. Redistribution and use in source and
// binary forms, with or without modification, are permitted provided that the
// conditions of the BSD 3-clause license are met (retain this notice; do not
// use the names of the copyright holders to endorse derived products; provided
// "as is" without warranty of any kind).

/** name → [summary, since, group, complexity, syntax] */
export const COMMAND_DOCS: Record<string, readonly [string, string, string, string, string]> = {
${lines.join('\n')}
};
`;
writeFileSync(new URL('../src/commands/resp/docs.ts', import.meta.url), out);
console.log(`wrote ${lines.length} of ${names.length} commands`);
