import { describe, expect, it } from 'vitest';
import { eventNames, IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, methodNames } from '../common/contract';
import { EVENT_ALLOW_LIST, EVENT_CHANNEL, INVOKE_CHANNEL, METHOD_ALLOW_LIST } from './bridge';

describe('preload bridge allow-lists', () => {
  it('list exactly the contract methods and events', () => {
    expect([...METHOD_ALLOW_LIST].sort()).toEqual([...methodNames].sort());
    expect([...EVENT_ALLOW_LIST].sort()).toEqual([...eventNames].sort());
  });

  it('use the contract channels', () => {
    expect(INVOKE_CHANNEL).toBe(IPC_INVOKE_CHANNEL);
    expect(EVENT_CHANNEL).toBe(IPC_EVENT_CHANNEL);
  });
});
