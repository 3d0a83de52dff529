import { describe, expect, it } from 'vitest';
import { checkBrokerLogin } from './embedded-broker-login';

const internal = { username: '$svc', password: 'internal-secret', clientId: 'svc-client' };
const users = [
  { username: 'observer1', password: 'pw-one' },
  { username: 'observer2', password: 'pw-two' },
];
const login = (clientId: string, username?: string, password?: string) => ({
  clientId,
  username,
  password: password === undefined ? undefined : Buffer.from(password),
});

describe('checkBrokerLogin', () => {
  it('accepts configured users with their own password only', () => {
    expect(checkBrokerLogin(login('a', 'observer1', 'pw-one'), { users }, internal)).toBe('user');
    expect(checkBrokerLogin(login('a', 'observer2', 'pw-two'), { users }, internal)).toBe('user');
    expect(checkBrokerLogin(login('a', 'observer1', 'pw-two'), { users }, internal)).toBe('rejected');
    expect(checkBrokerLogin(login('a', 'observer1', 'pw-one-longer'), { users }, internal)).toBe('rejected');
    expect(checkBrokerLogin(login('a', 'nobody', 'pw-one'), { users }, internal)).toBe('rejected');
    expect(checkBrokerLogin(login('a'), { users }, internal)).toBe('rejected');
  });

  it('accepts anyone when no user is configured', () => {
    expect(checkBrokerLogin(login('a'), { users: [] }, internal)).toBe('anonymous');
    expect(checkBrokerLogin(login('a', 'x', 'y'), { users: [] }, internal)).toBe('anonymous');
  });

  it("recognises the service's own source and reserves its client id for it", () => {
    expect(checkBrokerLogin(login('svc-client', '$svc', 'internal-secret'), { users }, internal)).toBe('internal');
    expect(checkBrokerLogin(login('svc-client', '$svc', 'internal-secret'), { users: [] }, internal)).toBe('internal');
    // Someone else using its client id would take over its session: refused even on an open broker.
    expect(checkBrokerLogin(login('svc-client'), { users: [] }, internal)).toBe('rejected');
    expect(checkBrokerLogin(login('svc-client', 'observer1', 'pw-one'), { users }, internal)).toBe('rejected');
    expect(checkBrokerLogin(login('svc-client', '$svc', 'guess'), { users: [] }, internal)).toBe('rejected');
  });
});
