import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGroup, parsePasswd, resolveUser } from '../../src/agent/users.js';

const passwd = [
  'root:x:0:0:root:/root:/bin/sh',
  '# a comment',
  '',
  'app:x:1000:1000:app user:/home/app:/bin/sh',
  'daemon:x:2:2::/sbin:/sbin/nologin',
  'broken line without fields',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
].join('\n');
const group = [
  'root:x:0:',
  'daemon:x:2:app',
  'app:x:1000:',
  'staff:x:50:app,root',
  'audio:x:63:app',
  'wheel:x:10:root',
  'nogroup:x:65534:',
].join('\n');
const files = { passwd, group };

describe('agent users', () => {
  it('parses passwd and group, skipping comments and broken lines', () => {
    const users = parsePasswd(passwd);
    assert.deepEqual(
      users.map((user) => user.name),
      ['root', 'app', 'daemon', 'nobody'],
    );
    assert.deepEqual(users[1], { name: 'app', uid: 1000, gid: 1000, home: '/home/app' });
    const groups = parseGroup(group);
    assert.deepEqual(groups.find((entry) => entry.name === 'staff')?.members, ['app', 'root']);
  });

  it('defaults to root, with root supplementary groups', () => {
    assert.deepEqual(resolveUser(undefined, files), {
      uid: 0,
      gid: 0,
      additionalGids: [50, 10],
      home: '/root',
    });
    assert.deepEqual(resolveUser('', files), resolveUser('root', files));
  });

  it('resolves a name to its uid, primary gid, home and supplementary groups', () => {
    assert.deepEqual(resolveUser('app', files), {
      uid: 1000,
      gid: 1000,
      additionalGids: [2, 50, 63],
      home: '/home/app',
    });
  });

  it('resolves a known uid like its name', () => {
    assert.deepEqual(resolveUser('1000', files), resolveUser('app', files));
  });

  it('accepts a uid with no passwd entry: gid 0, home /, no supplementary groups', () => {
    assert.deepEqual(resolveUser('4242', files), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  });

  it('an explicit group replaces the primary group and drops supplementary groups', () => {
    assert.deepEqual(resolveUser('1000:1000', files), {
      uid: 1000,
      gid: 1000,
      additionalGids: [],
      home: '/home/app',
    });
    assert.deepEqual(resolveUser('app:staff', files), {
      uid: 1000,
      gid: 50,
      additionalGids: [],
      home: '/home/app',
    });
    assert.deepEqual(resolveUser('4242:777', files), { uid: 4242, gid: 777, additionalGids: [], home: '/' });
    assert.deepEqual(resolveUser('nobody:nogroup', files).gid, 65534);
  });

  it('refuses unknown names, bad forms and out-of-range ids', () => {
    assert.throws(() => resolveUser('ghost', files), /unable to find user ghost/);
    assert.throws(() => resolveUser('app:ghosts', files), /unable to find group ghosts/);
    assert.throws(() => resolveUser('a:b:c', files), /expected USER\[:GROUP\]/);
    assert.throws(() => resolveUser('99999999999', files), /unable to find user/);
  });

  it('works for an image without /etc/passwd and /etc/group', () => {
    const none = { passwd: '', group: '' };
    assert.deepEqual(resolveUser(undefined, none), { uid: 0, gid: 0, additionalGids: [], home: '/' });
    assert.deepEqual(resolveUser('1000:1000', none), { uid: 1000, gid: 1000, additionalGids: [], home: '/' });
    assert.throws(() => resolveUser('app', none), /unable to find user app/);
  });
});
