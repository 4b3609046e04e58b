import { test } from 'node:test';
import assert from 'node:assert/strict';
import { senderIsServer } from './flows.ts';

const none = (): boolean => false;

test('mid-stream: the well-known or registered port is the server', () => {
  assert.equal(senderIsServer('tcp', 502, 49152, none), true);
  assert.equal(senderIsServer('tcp', 49152, 502, none), false);
  assert.equal(senderIsServer('tcp', 20000, 1025, none), true); // DNP3
  assert.equal(
    senderIsServer('tcp', 40000, 41000, (p) => p === 41000),
    false,
  );
});

test('mid-stream: a privileged port beats an unprivileged one, and ties keep the first sender as client', () => {
  assert.equal(senderIsServer('tcp', 999, 40000, none), true);
  assert.equal(senderIsServer('udp', 47808, 47808, none), false);
  assert.equal(senderIsServer('udp', 30000, 30001, none), false);
  assert.equal(senderIsServer('tcp', 8000, 50123, none), true);
});
