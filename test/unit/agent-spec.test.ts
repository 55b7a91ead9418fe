import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_CAPABILITIES,
  decodeCapabilityMask,
  resolveCapabilities,
} from '../../src/agent/capabilities.js';
import { hostsFile, resolvConf } from '../../src/agent/etc-files.js';
import type { ImageConfig } from '../../src/agent/image.js';
import { leaseFor, pickSubnet } from '../../src/agent/network.js';
import { humanDuration, statusText } from '../../src/agent/ps.js';
import { containerRlimits, parseHardNofile } from '../../src/agent/rlimits.js';
import {
  defaultRunOptions,
  parseEnvFile,
  parseMemory,
  parseRunArgs,
  type RunOptions,
} from '../../src/agent/run-options.js';
import { buildSpec, DEFAULT_PATH, mergeEnv, processArgs, type SpecInput } from '../../src/agent/spec.js';

function image(config: NonNullable<ImageConfig['config']>): ImageConfig {
  return { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [] } };
}

function input(overrides: Partial<SpecInput> = {}, options: Partial<RunOptions> = {}): SpecInput {
  return {
    image: image({ Cmd: ['sh'], Env: ['PATH=/bin', 'A=image'] }),
    options: { ...defaultRunOptions(), network: 'none', ...options },
    command: [],
    users: {
      passwd: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n',
      group: 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n',
    },
    envFileEntries: [],
    hostEnv: {},
    rootfsPath: '/agent/containers/c1/rootfs',
    hostname: 'c1',
    hardNofile: 20000,
    cgroupsPath: '/berth-agent/c1',
    volumeMounts: [],
    etcFiles: {
      hosts: '/agent/c1/hosts',
      resolvConf: '/agent/c1/resolv.conf',
      hostname: '/agent/c1/hostname',
    },
    ...overrides,
  };
}

describe('agent run options', () => {
  it('parses flags, IMAGE and the command after it', () => {
    const parsed = parseRunArgs([
      '-d',
      '--name=web',
      '-e',
      'A=1',
      '--env',
      'B',
      '-v',
      '/srv/data:/data:ro',
      '-v',
      'cache:/cache',
      '-p',
      '8080:80',
      '--user',
      'app:staff',
      '--cap-drop',
      'all',
      '--cap-add',
      'net_admin',
      '--read-only',
      '-m',
      '64m',
      '--pids-limit',
      '50',
      '--workdir',
      '/srv',
      '--entrypoint',
      '/bin/sh',
      'busybox:1',
      '-c',
      'echo hi',
    ]);
    assert.equal(parsed.image, 'busybox:1');
    assert.deepEqual(parsed.command, ['-c', 'echo hi'], 'flags after IMAGE belong to the command');
    const o = parsed.options;
    assert.equal(o.detach, true);
    assert.equal(o.name, 'web');
    assert.deepEqual(o.env, ['A=1', 'B']);
    assert.deepEqual(o.volumes, [
      { kind: 'bind', source: '/srv/data', destination: '/data', readOnly: true },
      { kind: 'volume', source: 'cache', destination: '/cache', readOnly: false },
    ]);
    assert.deepEqual(o.ports, [{ hostPort: 8080, containerPort: 80 }]);
    assert.equal(o.user, 'app:staff');
    assert.deepEqual(o.capDrop, ['ALL']);
    assert.deepEqual(o.capAdd, ['CAP_NET_ADMIN']);
    assert.equal(o.readOnly, true);
    assert.equal(o.memory, 64 * 1024 * 1024);
    assert.equal(o.pidsLimit, 50);
    assert.equal(o.workdir, '/srv');
    assert.deepEqual(o.entrypoint, ['/bin/sh']);
    assert.equal(o.network, 'bridge', 'bridge is the default, as in Docker');
  });

  it('refuses bad flags with a message naming the flag', () => {
    const cases: [string[], RegExp][] = [
      [['--bogus', 'img'], /unknown flag --bogus/],
      [['-e'], /-e needs a value/],
      [['--memory', 'lots', 'img'], /--memory lots/],
      [['--memory', '1m', 'img'], /--memory 1m: the minimum is 6m/],
      [['-v', 'relative:dir', 'img'], /--volume relative:dir: the container path must be absolute/],
      [['-v', '/a:/b:rx', 'img'], /--volume \/a:\/b:rx: mode must be ro or rw/],
      [['-p', '80', 'img'], /--publish 80: expected HOSTPORT:CTRPORT/],
      [['-p', '1:70000', 'img'], /--publish 1:70000: "70000" is not a port/],
      [['-p', '53:53/udp', 'img'], /only TCP/],
      [['--cap-add', 'FLY', 'img'], /--cap-add FLY: unknown capability/],
      [['--network', 'overlay', 'img'], /--network overlay: expected none, host or bridge/],
      [['--network', 'host', '-p', '1:2', 'img'], /--publish needs --network bridge/],
      [['--pids-limit', '0', 'img'], /--pids-limit 0: expected a positive integer/],
      [['--workdir', 'srv', 'img'], /--workdir srv: must be an absolute path/],
      [['--user', 'a:b:c', 'img'], /--user a:b:c/],
      [['--name', '-x', 'img'], /--name -x/],
      [['--rm=yes', 'img'], /--rm takes no value/],
      [[], /run needs an IMAGE/],
    ];
    for (const [argv, message] of cases) assert.throws(() => parseRunArgs(argv), message, argv.join(' '));
  });

  it('parses memory sizes like Docker (binary units)', () => {
    assert.equal(parseMemory('64m'), 64 * 1024 ** 2);
    assert.equal(parseMemory('16M'), 16 * 1024 ** 2);
    assert.equal(parseMemory('1g'), 1024 ** 3);
    assert.equal(parseMemory('1.5GiB'), 1.5 * 1024 ** 3);
    assert.equal(parseMemory('8192k'), 8 * 1024 ** 2);
    assert.equal(parseMemory('10485760'), 10485760);
    assert.equal(parseMemory('7mb'), 7 * 1024 ** 2);
  });

  it('parses env files', () => {
    assert.deepEqual(parseEnvFile('# c\nA=1\n\n  B=two words\nC\r\nD=\n', 'f'), [
      'A=1',
      'B=two words',
      'C',
      'D=',
    ]);
    assert.throws(() => parseEnvFile('A=1\n=2\n', 'vars.env'), /vars\.env:2/);
  });
});

describe('agent spec builder', () => {
  it('entrypoint and cmd follow Docker override rules', () => {
    const both = image({ Entrypoint: ['/entry'], Cmd: ['--serve'] });
    const opts = defaultRunOptions();
    assert.deepEqual(processArgs(both, opts, []), ['/entry', '--serve']);
    assert.deepEqual(processArgs(both, opts, ['--once']), ['/entry', '--once'], 'args replace Cmd');
    const overridden = { ...opts, entrypoint: ['/other'] };
    assert.deepEqual(processArgs(both, overridden, []), ['/other'], '--entrypoint drops the image Cmd');
    assert.deepEqual(processArgs(both, overridden, ['x']), ['/other', 'x']);
    assert.deepEqual(
      processArgs(both, { ...opts, entrypoint: [] }, ['sh']),
      ['sh'],
      '--entrypoint "" clears it',
    );
    assert.deepEqual(processArgs(image({ Cmd: ['sh', '-c', 'true'] }), opts, []), ['sh', '-c', 'true']);
    assert.deepEqual(processArgs(image({ Entrypoint: null, Cmd: null }), opts, ['id']), ['id']);
    assert.throws(() => processArgs(image({}), opts, []), /no command/);
    assert.throws(() => processArgs(both, { ...opts, entrypoint: [] }, []), /no command/);
  });

  it('merges env: image, then env files, then -e; bare names from the host; PATH and HOME defaults', () => {
    const env = mergeEnv(
      {
        hostname: 'h1',
        image: ['A=image', 'B=image', 'PATH=/image/bin'],
        files: ['B=file', 'C=file', 'FROMHOST'],
        flags: ['C=flag', 'D=x=y', 'MISSING'],
        home: '/home/app',
      },
      { FROMHOST: 'host value' },
    );
    assert.deepEqual(env, [
      'HOSTNAME=h1',
      'A=image',
      'B=file',
      'PATH=/image/bin',
      'C=flag',
      'FROMHOST=host value',
      'D=x=y',
      'HOME=/home/app',
    ]);
    const defaults = mergeEnv({ hostname: 'h', image: [], files: [], flags: ['HOME=/x'], home: '/root' }, {});
    assert.deepEqual(defaults, ['HOSTNAME=h', 'HOME=/x', `PATH=${DEFAULT_PATH}`]);
  });

  it('builds the process: env, cwd, numeric user with supplementary groups, rlimits clamped', () => {
    const spec = buildSpec(
      input(
        {
          image: image({ Cmd: ['sh'], Env: ['A=image'], WorkingDir: 'srv', User: 'app' }),
          envFileEntries: ['A=file'],
        },
        { env: ['B=flag'] },
      ),
    );
    assert.deepEqual(spec.process.user, { uid: 1000, gid: 1000, additionalGids: [50] });
    assert.equal(spec.process.cwd, '/srv', 'a relative WorkingDir is taken from /');
    assert.deepEqual(spec.process.env, [
      'HOSTNAME=c1',
      'A=file',
      'B=flag',
      `PATH=${DEFAULT_PATH}`,
      'HOME=/home/app',
    ]);
    assert.equal(spec.process.terminal, false);
    assert.deepEqual(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
    assert.equal(buildSpec(input({}, { workdir: '/w', user: '0' })).process.cwd, '/w');
    assert.deepEqual(buildSpec(input({}, { user: '1000:1000' })).process.user, { uid: 1000, gid: 1000 });
    assert.throws(() => buildSpec(input({}, { user: 'ghost' })), /unable to find user ghost/);
  });

  it('clamps RLIMIT_NOFILE to the host hard limit, read from /proc/PID/limits', () => {
    assert.deepEqual(containerRlimits(Number.POSITIVE_INFINITY), [
      { type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 },
    ]);
    assert.deepEqual(containerRlimits(4096), [{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 4096 }]);
    const limits =
      'Limit  Soft Limit  Hard Limit  Units\nMax open files            1024                 20000                files\n';
    assert.equal(parseHardNofile(limits), 20000);
    assert.equal(parseHardNofile('Max open files   1024   unlimited   files\n'), Number.POSITIVE_INFINITY);
  });

  it('capabilities: Docker defaults, add/drop, ALL, and ambient only for non-root', () => {
    assert.deepEqual(resolveCapabilities({ add: [], drop: [] }).sort(), [...DEFAULT_CAPABILITIES].sort());
    const adjusted = resolveCapabilities({ add: ['NET_ADMIN'], drop: ['CAP_CHOWN', 'mknod'] });
    assert.ok(adjusted.includes('CAP_NET_ADMIN'));
    assert.ok(!adjusted.includes('CAP_CHOWN') && !adjusted.includes('CAP_MKNOD'));
    assert.deepEqual(resolveCapabilities({ add: ['NET_ADMIN'], drop: ['ALL'] }), ['CAP_NET_ADMIN']);
    assert.deepEqual(
      resolveCapabilities({ add: ['NET_ADMIN'], drop: ['NET_ADMIN'] }).includes('CAP_NET_ADMIN'),
      true,
    );
    const host = ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_ADMIN'];
    assert.deepEqual(resolveCapabilities({ add: ['ALL'], drop: ['KILL'], available: host }), [
      'CAP_CHOWN',
      'CAP_SYS_ADMIN',
    ]);
    assert.throws(
      () => resolveCapabilities({ add: ['SYS_RESOURCE'], drop: [], available: host }),
      /--cap-add CAP_SYS_RESOURCE: the host does not grant/,
    );
    assert.throws(() => resolveCapabilities({ add: ['FLY'], drop: [] }), /unknown capability "FLY"/);

    const root = buildSpec(input({}, { capDrop: ['ALL'], capAdd: ['CAP_NET_ADMIN'] })).process.capabilities;
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable'] as const) {
      assert.deepEqual(root[set], ['CAP_NET_ADMIN'], set);
    }
    assert.deepEqual(root.ambient, [], 'root needs no ambient set');
    const app = buildSpec(input({}, { user: 'app', capDrop: ['ALL'], capAdd: ['CAP_NET_ADMIN'] }));
    assert.deepEqual(app.process.capabilities.ambient, ['CAP_NET_ADMIN'], 'non-root keeps caps through exec');
  });

  it('decodes /proc/self/status capability masks', () => {
    assert.deepEqual(decodeCapabilityMask('0000000000001000'), ['CAP_NET_ADMIN']);
    assert.deepEqual(decodeCapabilityMask('0000000020000420'), [
      'CAP_KILL',
      'CAP_NET_BIND_SERVICE',
      'CAP_AUDIT_WRITE',
    ]);
    assert.deepEqual(decodeCapabilityMask('0000000000000000'), []);
  });

  it('mounts: system filesystems, /etc files, volumes (parents first, ro honoured); read-only root', () => {
    const spec = buildSpec(
      input(
        {
          volumeMounts: [
            { source: '/v/inner', destination: '/data/inner', readOnly: false },
            { source: '/v/data', destination: '/data', readOnly: true },
          ],
        },
        { readOnly: true },
      ),
    );
    assert.deepEqual(spec.root, { path: '/agent/containers/c1/rootfs', readonly: true });
    const destinations = spec.mounts.map((mount) => mount.destination);
    for (const path of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']) {
      assert.ok(destinations.includes(path), path);
    }
    assert.ok(spec.mounts.find((mount) => mount.destination === '/sys')?.options?.includes('ro'));
    const hosts = spec.mounts.find((mount) => mount.destination === '/etc/hosts');
    assert.deepEqual(hosts, {
      destination: '/etc/hosts',
      type: 'bind',
      source: '/agent/c1/hosts',
      options: ['rbind', 'rprivate', 'rw'],
    });
    assert.ok(destinations.includes('/etc/resolv.conf') && destinations.includes('/etc/hostname'));
    assert.deepEqual(destinations.slice(-2), ['/data', '/data/inner']);
    assert.deepEqual(spec.mounts.at(-2)?.options, ['rbind', 'rprivate', 'ro']);
    assert.deepEqual(spec.mounts.at(-1)?.options, ['rbind', 'rprivate', 'rw']);
    assert.ok(spec.linux.maskedPaths.includes('/proc/kcore'));
    assert.ok(spec.linux.readonlyPaths.includes('/proc/sys'));
    assert.equal(buildSpec(input()).root.readonly, false);
  });

  it('namespaces per network mode, cgroup path, memory (swap equal) and pids limits', () => {
    const none = buildSpec(input({}, { network: 'none', memory: 16 * 1024 * 1024, pidsLimit: 20 }));
    assert.deepEqual(
      none.linux.namespaces.map((ns) => ns.type),
      ['pid', 'ipc', 'uts', 'mount', 'network', 'cgroup'],
    );
    assert.deepEqual(none.linux.resources.memory, { limit: 16777216, swap: 16777216 });
    assert.deepEqual(none.linux.resources.pids, { limit: 20 });
    assert.equal(none.linux.cgroupsPath, '/berth-agent/c1');
    const host = buildSpec(input({}, { network: 'host' }));
    assert.ok(!host.linux.namespaces.some((ns) => ns.type === 'network'));
    assert.equal(host.linux.resources.memory, undefined);
    const bridge = buildSpec(input({ netnsPath: '/var/run/netns/berth-c1' }, { network: 'bridge' }));
    assert.deepEqual(
      bridge.linux.namespaces.find((ns) => ns.type === 'network'),
      { type: 'network', path: '/var/run/netns/berth-c1' },
    );
    assert.throws(() => buildSpec(input({}, { network: 'bridge' })), /prepared network namespace/);
  });

  it('per-container /etc files', () => {
    assert.match(hostsFile('c1', '10.231.0.2'), /^10\.231\.0\.2\tc1$/m);
    assert.match(hostsFile('c1', undefined), /^127\.0\.0\.1\tc1$/m);
    const host = 'search example\nnameserver 127.0.0.53\noptions edns0\n';
    assert.equal(resolvConf(host, true), host);
    assert.equal(
      resolvConf(host, false),
      'search example\noptions edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n',
    );
    assert.equal(resolvConf('nameserver 10.0.0.1\n', false), 'nameserver 10.0.0.1\n');
  });
});

describe('agent network and ps helpers', () => {
  it('leases /30 subnets of 10.231.0.0/16 and skips used ones', () => {
    assert.deepEqual(leaseFor(0, 'abcdef012345'), {
      index: 0,
      hostAddress: '10.231.0.1',
      containerAddress: '10.231.0.2',
      netns: 'berth-abcdef012345',
      hostVeth: 'bvabcdef012345',
    });
    assert.equal(leaseFor(16383, 'x').containerAddress, '10.231.255.254');
    assert.equal(leaseFor(64, 'x').hostAddress, '10.231.1.1');
    assert.throws(() => leaseFor(16384, 'x'), /no subnet/);
    const start = pickSubnet(new Set(), '00000005ffff');
    assert.equal(start, 5);
    assert.equal(pickSubnet(new Set([5, 6]), '00000005ffff'), 7);
    assert.ok(leaseFor(0, 'abcdef012345').hostVeth.length <= 15, 'interface names are at most 15 characters');
  });

  it('words times and statuses like Docker', () => {
    assert.equal(humanDuration(300), 'Less than a second');
    assert.equal(humanDuration(1000), '1 second');
    assert.equal(humanDuration(42_000), '42 seconds');
    assert.equal(humanDuration(90_000), 'About a minute');
    assert.equal(humanDuration(5 * 60_000), '5 minutes');
    assert.equal(humanDuration(65 * 60_000), 'About an hour');
    assert.equal(humanDuration(30 * 3_600_000), '30 hours');
    assert.equal(humanDuration(3 * 86_400_000), '3 days');
    const now = 1_000_000;
    assert.equal(statusText({ state: 'running', startedAt: now - 3000 }, now), 'Up 3 seconds');
    assert.equal(
      statusText({ state: 'exited', exitCode: 0, finishedAt: now - 5000 }, now),
      'Exited (0) 5 seconds ago',
    );
    assert.equal(statusText({ state: 'created' }, now), 'Created');
  });
});
