/**
 * `berth token inspect TOKEN`: shows what a registry token says (header, claims, and a
 * summary with readable times and the access it grants) without verifying its signature.
 */
import { groupNamed, pickSubcommand } from './help.js';
import { CliError, type CliIo, onePositional, parseCommandArgs } from './io.js';
import { decodeJwt, summarizeClaims } from './jwt-decode.js';

/** Runs `berth token SUBCOMMAND ...` (`args` without `token`); resolves with the exit code. */
export async function tokenCommand(args: string[], io: CliIo): Promise<number> {
  // `inspect` is the only subcommand.
  const { usage, rest } = pickSubcommand(groupNamed('token'), args);
  const parsed = parseCommandArgs(rest, {}, usage);
  if (parsed.values.policy !== undefined) throw new CliError(`token inspect takes no --policy\n${usage}`);
  const argument = onePositional(parsed, usage);
  const text = argument === '-' ? await readAll(io.stdin) : argument;
  // People paste whole Authorization headers; the token is the last word.
  const token = text.trim().replace(/^(?:Authorization:\s*)?Bearer\s+/i, '');
  let decoded: ReturnType<typeof decodeJwt>;
  try {
    decoded = decodeJwt(token);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const summary = summarizeClaims(decoded.claims, io.now());
  io.stdout.write(`${JSON.stringify({ ...decoded, summary }, null, 2)}\n`);
  return 0;
}

async function readAll(input: CliIo['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
