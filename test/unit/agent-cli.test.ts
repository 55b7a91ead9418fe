import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { agentCommand } from '../../src/agent/cli.js';
import { runPullFlags } from '../../src/agent/cli-flags.js';
import { AGENT_COMMANDS } from '../../src/agent/cli-usage.js';
import { CliError, type CliIo } from '../../src/cli/io.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

let root: string;

/** Runs `berth agent args` in process, with its state under `root`. */
async function agent(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdin: Readable.from([]),
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    env: { BERTH_AGENT_ROOT: root },
    now: Date.now,
  };
  const code = await agentCommand(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('berth agent help', () => {
  before(async () => {
    root = await tempDir('berth-agent-help-');
  });
  after(() => removeDir(root));

  it('--help, -h and help print the overview on stdout and exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help'], ['--root', '/x', '--help']]) {
      const result = await agent(args);
      assert.equal(result.code, 0, args.join(' '));
      assert.match(result.stdout, /^Usage: berth agent \[--root DIR\] <command>/);
      for (const command of AGENT_COMMANDS) assert.match(result.stdout, new RegExp(`\\n  ${command} `));
      assert.equal(result.stderr, '');
    }
  });

  it('no command prints the overview but exits 1, as berth does', async () => {
    const result = await agent([]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^Usage: berth agent/);
  });

  it('every command answers --help and "help COMMAND" with its usage on stdout and exit 0', async () => {
    for (const command of AGENT_COMMANDS) {
      for (const args of [
        [command, '--help'],
        ['help', command],
      ]) {
        const result = await agent(args);
        assert.equal(result.code, 0, args.join(' '));
        assert.match(result.stdout, new RegExp(`^Usage: berth agent ${command}\\b`), args.join(' '));
        assert.equal(result.stderr, '');
      }
    }
  });

  it('-h is help except for run, where it is --hostname as in docker', async () => {
    assert.match((await agent(['ps', '-h'])).stdout, /^Usage: berth agent ps/);
    assert.match((await agent(['exec', '-h'])).stdout, /^Usage: berth agent exec/);
    await assert.rejects(agent(['run', '-h']), (error: unknown) => {
      assert.ok(error instanceof CliError);
      assert.equal(error.exitCode, 125);
      assert.match(error.message, /-h needs a value/);
      return true;
    });
  });

  it('help flags among run and exec options count, after IMAGE or the container they are the command', async () => {
    const help = ['--name', 'web', '-e', 'A=1', '--pull', 'never', '--help'];
    assert.match((await agent(['run', ...help])).stdout, /^Usage: berth agent run/);
    assert.match((await agent(['exec', '-u', 'app', '--help'])).stdout, /^Usage: berth agent exec/);
    // Past IMAGE, --help belongs to the container: the agent goes on to run it (and here
    // fails on the missing image, proving it did not print help instead).
    await assert.rejects(agent(['run', '--pull', 'never', 'img', 'sh', '--help']), /img is not present/);
  });

  it('an unknown command suggests the nearest one', async () => {
    await assert.rejects(agent(['pul', 'x']), /agent: unknown command "pul" \(did you mean pull\?\)/);
    await assert.rejects(agent(['imagse']), /did you mean images\?/);
    await assert.rejects(agent(['help', 'exce']), /did you mean exec\?/);
    await assert.rejects(agent(['frobnicate']), (error: unknown) => {
      assert.ok(error instanceof CliError);
      assert.equal(error.exitCode, 1);
      assert.doesNotMatch(error.message, /did you mean/);
      assert.match(error.message, /berth agent --help/);
      return true;
    });
  });
});

describe('berth agent run: flags of the agent rather than the container', () => {
  it('--pull, --platform and --plain-http are taken from among the options, not from the command', () => {
    const parsed = runPullFlags([
      '--name',
      'web',
      '--pull',
      'never',
      '-e',
      'A=1',
      '--plain-http',
      'img',
      'sh',
      '--pull',
    ]);
    assert.equal(parsed.pull, 'never');
    assert.equal(parsed.plainHttp, true);
    assert.deepEqual(parsed.rest, ['--name', 'web', '-e', 'A=1', 'img', 'sh', '--pull']);
    assert.deepEqual(runPullFlags(['--platform=linux/arm64', '--', 'img']).rest, ['--', 'img']);
  });
});
