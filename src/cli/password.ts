/**
 * Getting a new password for `berth user add` and `berth user passwd`: the first line of
 * standard input with `--password-stdin` (scripts), otherwise typed twice at the terminal
 * with echo off. Passwords never come from the command line, where `ps` and shell history
 * would see them.
 */
import { CliError, type TextIn, type TextOut } from './io.js';

/** Shortest password accepted, in characters. */
export const MIN_PASSWORD_LENGTH = 8;

/** bcrypt ignores everything after this many bytes, so a longer password is weaker than it looks. */
const BCRYPT_MAX_BYTES = 72;

/** Reads a new password from stdin or the terminal and checks it is acceptable. */
export async function readNewPassword(stdin: TextIn, prompts: TextOut, fromStdin: boolean): Promise<string> {
  let password: string;
  if (fromStdin) {
    password = await readFirstLine(stdin);
  } else {
    if (!stdin.isTTY || !stdin.setRawMode)
      throw new CliError('standard input is not a terminal: pass the password with --password-stdin');
    password = await promptHidden('Password: ', stdin, prompts);
    const again = await promptHidden('Repeat password: ', stdin, prompts);
    if (again !== password) throw new CliError('the passwords do not match');
  }
  checkPassword(password);
  return password;
}

/** Throws a CliError saying why `password` is not acceptable. */
export function checkPassword(password: string): void {
  if (password === '') throw new CliError('the password is empty');
  if ([...password].length < MIN_PASSWORD_LENGTH)
    throw new CliError(`the password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
  if (Buffer.byteLength(password) > BCRYPT_MAX_BYTES)
    throw new CliError(`the password is too long: bcrypt only uses the first ${BCRYPT_MAX_BYTES} bytes`);
}

/** The first line of `input` without its line ending (all of it if there is no newline). */
/** The first line of `input`, without its line ending. */
export async function readFirstLine(input: TextIn): Promise<string> {
  const chunks: Buffer[] = [];
  // Collect bytes, not strings, so a character split across chunks decodes whole.
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    const newline = bytes.indexOf(0x0a);
    if (newline >= 0) {
      chunks.push(bytes.subarray(0, newline));
      break;
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r$/, '');
}

/** Prompts on `output` and reads one line from the terminal `input` without echoing it. */
/** Asks for a secret on the terminal without echoing it. */
export function promptHidden(prompt: string, input: TextIn, output: TextOut): Promise<string> {
  const setRaw = input.setRawMode?.bind(input) ?? (() => undefined);
  output.write(prompt);
  setRaw(true);
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error?: CliError) => {
      input.removeListener('data', onData);
      setRaw(false);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        // Raw mode turns Ctrl-C and Ctrl-D into plain bytes, so handle them here.
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003') return finish(new CliError('cancelled'));
        if (char === '\u0004' && typed === '') return finish(new CliError('cancelled'));
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else if (char >= ' ') typed += char;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}

/** An existing password (a login): stdin's first line, or asked once at the terminal. */
export async function readPassword(stdin: TextIn, prompts: TextOut, fromStdin: boolean): Promise<string> {
  if (fromStdin) return readFirstLine(stdin);
  if (!stdin.isTTY)
    throw new CliError('standard input is not a terminal: pass the password with --password-stdin');
  return promptHidden('Password: ', stdin, prompts);
}
