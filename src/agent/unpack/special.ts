/**
 * What Node cannot do itself: mknod/mkfifo and setxattr, through the `mknod`, `mkfifo` and
 * `setfattr` commands (coreutils and the Debian package `attr`).
 *
 * Such entries are rare, so the cost that matters is one process per entry in images that have
 * many of them (a populated /dev, capabilities on many binaries): nodes are made by one shell per
 * run of consecutive node entries, and xattrs are set by one `setfattr --restore` per layer.
 *
 * Every path handed to these commands has been resolved inside the rootfs already, and
 * `setfattr -h` never follows a symlink in the last component.
 */
import { spawn } from 'node:child_process';

/** A device or FIFO to create. */
export interface NodeSpec {
  path: string;
  kind: 'char' | 'block' | 'fifo';
  major: number;
  minor: number;
}

/** Extended attributes to set on one path. */
export interface XattrSpec {
  path: string;
  xattrs: Map<string, Buffer>;
}

// One shell for a batch; failures are found afterwards by lstat, so one bad node does not stop
// the others. Created with mode 0600: the caller chowns, then chmods to the entry's mode.
const MAKE_NODES = `
while [ $# -ge 4 ]; do
  if [ "$2" = p ]; then mkfifo -m 0600 -- "$1"; else mknod -m 0600 -- "$1" "$2" "$3" "$4"; fi
  shift 4
done
`;

/** Creates the nodes; returns the command's error output (empty when all went well). */
export async function makeNodes(nodes: NodeSpec[]): Promise<string> {
  if (nodes.length === 0) return '';
  const args = nodes.flatMap((node) => [
    node.path,
    node.kind === 'fifo' ? 'p' : node.kind === 'char' ? 'c' : 'b',
    String(node.major),
    String(node.minor),
  ]);
  const { stderr } = await runCommand('/bin/sh', ['-c', MAKE_NODES, 'berth-mknod', ...args]);
  return stderr;
}

/**
 * Sets every xattr with one `setfattr --restore` (the `getfattr --dump` format on standard input).
 * Returns one message per refused attribute or path; nothing here throws for a refusal, since a
 * filesystem without (some) xattr support should still unpack.
 */
export async function setXattrs(items: XattrSpec[]): Promise<string[]> {
  if (items.length === 0) return [];
  const lines: string[] = [];
  for (const item of items) {
    lines.push(`# file: ${quote(item.path)}`);
    for (const [name, value] of item.xattrs) {
      lines.push(`${quote(name)}=${value.length === 0 ? '""' : `0s${value.toString('base64')}`}`);
    }
    lines.push('');
  }
  const { code, stderr } = await runCommand('setfattr', ['-h', '--restore=-'], `${lines.join('\n')}\n`);
  const messages = stderr.split('\n').filter((line) => line.trim() !== '');
  if (code !== 0 && messages.length === 0) messages.push(`setfattr exited ${code}`);
  return messages;
}

/** Removes xattrs by name from one path; returns the refusals other than "no such attribute". */
export async function removeXattrs(path: string, names: string[]): Promise<string[]> {
  const messages: string[] = [];
  for (const name of names) {
    const { code, stderr } = await runCommand('setfattr', ['-h', '-x', name, '--', path]);
    if (code !== 0 && !/No such attribute|No data available/i.test(stderr)) messages.push(stderr.trim());
  }
  return messages;
}

/**
 * The quoting `setfattr --restore` undoes: every byte outside a plain set as `\ooo`, so names
 * with newlines, `=`, backslashes or non-UTF-8 bytes survive the line format.
 */
export function quote(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const plain =
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      byte === 0x2f || // /
      byte === 0x2e || // .
      byte === 0x5f || // _
      byte === 0x2d || // -
      byte === 0x2b; // +
    out += plain ? String.fromCharCode(byte) : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

function runCommand(
  command: string,
  args: string[],
  input?: string,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (data: string) => {
      stderr += data;
    });
    child.stdin.on('error', () => {}); // a command that exits early must not crash us with EPIPE
    child.stdin.end(input ?? '');
    child.once('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}
