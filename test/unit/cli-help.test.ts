/** `--help` of every `berth` command and subcommand, usage errors and "did you mean". */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GROUPS } from '../../src/cli/help.js';
import { main } from '../../src/cli/main.js';

/** Runs `berth args` in-process; resolves with the exit code and what it wrote. */
async function berth(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    args,
    {
      write: (text: string) => {
        stdout += text;
      },
    },
    {
      write: (text: string) => {
        stderr += text;
      },
    },
  );
  return { code, stdout, stderr };
}

/** Every command line that has a usage of its own: `serve`, `user`, `user add`, ... */
const COMMANDS: string[][] = GROUPS.flatMap((group) => [
  [group.name],
  ...group.subcommands.map((sub) => [group.name, sub.name]),
]);

describe('berth --help', () => {
  it('lists every command and subcommand', async () => {
    const { code, stdout, stderr } = await berth('--help');
    assert.equal(code, 0);
    assert.equal(stderr, '');
    for (const command of COMMANDS.filter((words) => words.length === 2 || words[0] === 'serve'))
      assert.ok(stdout.includes(`  ${command.join(' ')} `), `${command.join(' ')} listed:\n${stdout}`);
    assert.match(stdout, / {2}agent <command>/);
  });

  for (const command of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      it(`berth ${command.join(' ')} ${flag} exits 0 with its usage on stdout`, async () => {
        const { code, stdout, stderr } = await berth(...command, flag);
        assert.equal(code, 0, stderr);
        assert.equal(stderr, '');
        const usage = command[0] === 'agent' ? 'Usage: berth agent' : `Usage: berth ${command.join(' ')}`;
        assert.ok(stdout.startsWith(usage), `starts with "${usage}":\n${stdout}`);
      });
    }
  }

  it('berth help COMMAND [SUBCOMMAND] is the same as --help', async () => {
    assert.deepEqual(await berth('help', 'team', 'members'), await berth('team', 'members', '--help'));
    assert.deepEqual(await berth('help', 'robot'), await berth('robot', '--help'));
    assert.deepEqual(await berth('help'), await berth('--help'));
  });

  it('a subcommand usage names its options, and --policy for policy commands', async () => {
    const { stdout } = await berth('team', 'members', '-h');
    assert.match(
      stdout,
      /^Usage: berth team members NAME \[--add USER \.\.\.\] \[--rm USER \.\.\.\] \[--policy FILE\]$/m,
    );
    assert.match(stdout, /BERTH_AUTH_POLICY/);
  });
});

describe('berth usage errors', () => {
  it('exit 1 with the usage on stderr and nothing on stdout', async () => {
    const cases: [string[], RegExp][] = [
      [[], /^berth: missing command\n\nUsage: berth <command>/],
      [['user'], /^berth: missing user command\n\nUsage: berth user <command>/],
      [['user', 'add'], /^berth: missing argument\nUsage: berth user add NAME/],
      [['team', 'add', 'dev', '--owner', 'x'], /Unknown option '--owner'[\s\S]*Usage: berth team add NAME/],
      [['config', 'check'], /^berth: missing argument\nUsage: berth config check FILE/],
      [['token', 'inspect', 'a', 'b'], /^berth: unexpected argument "b"\nUsage: berth token inspect/],
      [['serve', '--port', '5000'], /^berth: serve: unexpected argument "--port"\nUsage: berth serve/],
      [
        ['serve', '--workers', '0'],
        /^berth: --workers: expected a whole number >= 1 or auto, got "0"\nUsage: berth serve/,
      ],
      [['serve', '--workers'], /^berth: --workers needs a value\nUsage: berth serve/],
      [['healthcheck', '--workers', '2'], /^berth: healthcheck: unexpected argument "--workers"/],
      [['robot', 'ls', 'extra'], /^berth: unexpected argument "extra"\nUsage: berth robot ls/],
    ];
    for (const [args, stderr] of cases) {
      const result = await berth(...args);
      assert.equal(result.code, 1, `berth ${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '', `berth ${args.join(' ')}`);
      assert.match(result.stderr, stderr);
    }
  });

  it('an unknown command or subcommand suggests the nearest one', async () => {
    const cases: [string[], RegExp][] = [
      [['sevre'], /^berth: unknown command "sevre" \(did you mean serve\?\)\n\nUsage: berth <command>/],
      [['tema', 'ls'], /^berth: unknown command "tema" \(did you mean team\?\)/],
      [['user', 'ad', 'x'], /^berth: unknown user command "ad" \(did you mean add\?\)\n\nUsage: berth user/],
      [['team', 'membrs', 'dev'], /^berth: unknown team command "membrs" \(did you mean members\?\)/],
      [['config', 'chek', 'x'], /^berth: unknown config command "chek" \(did you mean check\?\)/],
      [['robot', 'list'], /^berth: unknown robot command "list" \(did you mean ls\?\)/],
    ];
    for (const [args, stderr] of cases) {
      const result = await berth(...args);
      assert.equal(result.code, 1);
      assert.match(result.stderr, stderr);
    }
    const far = await berth('frobnicate');
    assert.match(
      far.stderr,
      /^berth: unknown command "frobnicate"\n\n/,
      'no suggestion when nothing is close',
    );
  });
});
