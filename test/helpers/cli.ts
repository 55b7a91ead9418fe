/** Driving the account commands in-process: a CliIo whose input is given and output collected. */
import { Readable } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';

/** The clock the commands see in tests. */
export const NOW = Date.parse('2026-06-01T12:00:00Z');

/** An io whose stdin holds `input` and whose output is collected. */
export function fakeIo(input = '', env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdin: Readable.from([Buffer.from(input)]),
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    env,
    now: () => NOW,
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}
