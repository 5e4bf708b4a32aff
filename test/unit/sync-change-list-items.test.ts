import { describe, expect, it } from 'vitest';
import { LiaisonError } from '../../src/domain/errors.js';
import { asUid } from '../../src/domain/ids.js';
import type { ChangeListOptions, ListOptions } from '../../src/mailbox/port.js';
import { delegatingStore } from '../support/delegating-collection.js';
import { memorySync } from '../support/memory-sync.js';
import { noteCodec } from '../support/note-codec.js';

const note = (uid: string, title: string) => ({ uid: asUid(uid), title, body: '', tags: [], private: false });

describe("an express run asks the change list for the items' data", () => {
  it('only after a small change list: not after a listing, a large change list or a failed one', async () => {
    const { server, firm, deps, sync } = await memorySync();
    const asked: (boolean | undefined)[] = [];
    let fail = false;
    const watched = () =>
      delegatingStore(deps().mailbox, (inner) => ({
        changesSince: async (token, options?: ChangeListOptions) => {
          asked.push(options?.withItems);
          if (fail) throw new LiaisonError('Unavailable', 'timed out building the answer');
          return inner.changesSince(token, options);
        },
      }));
    const express = () => sync({ mailbox: watched(), settings: { mode: 'express' } });
    firm.userPut(null, note('n0', 'Note 0'));
    await sync({ settings: { mode: 'complete' } });
    const put = (n: number, title: string) => {
      for (let i = 0; i < n; i++) {
        server.put('acct', 'contacts', `m${i}.txt`, noteCodec.serialize(note(`m${i}`, `${title} ${i}`)));
      }
    };

    put(3, 'Small');
    expect((await express()).toFirm.created).toBe(3); // after the listing: without data
    put(3, 'Again');
    expect((await express()).toFirm.updated).toBe(3); // after 3 changes: with data
    put(1_001, 'Many');
    await express(); // after 3 changes: with data; this list names 1,001
    put(2, 'After many');
    await express(); // after 1,001: without data
    put(2, 'Fails');
    fail = true;
    await expect(express()).rejects.toThrow('timed out');
    fail = false;
    await express(); // after a failed change list with data: without
    put(2, 'Back');
    await express(); // after 2: with data again
    expect(asked).toEqual([false, true, true, false, true, false, true]);
  });
});

describe("a first sync asks the listing for the items' data", () => {
  it('when the firm side is empty; a complete run of a synced collection lists without', async () => {
    const { server, deps, sync } = await memorySync();
    const asked: (boolean | undefined)[] = [];
    const watched = () =>
      delegatingStore(deps().mailbox, (inner) => ({
        listAll: async (options?: ListOptions) => {
          asked.push(options?.withItems);
          return inner.listAll(options);
        },
      }));
    for (let i = 0; i < 3; i++) {
      server.put('acct', 'contacts', `f${i}.txt`, noteCodec.serialize(note(`f${i}`, `First ${i}`)));
    }
    expect((await sync({ mailbox: watched(), settings: { mode: 'complete' } })).toFirm.created).toBe(3);
    server.put('acct', 'contacts', 'f3.txt', noteCodec.serialize(note('f3', 'Later')));
    expect((await sync({ mailbox: watched(), settings: { mode: 'complete' } })).toFirm.created).toBe(1);
    expect(asked).toEqual([true, undefined]);
  });

  it('not after a failed run: the listing is asked for alone', async () => {
    const { server, firm, deps, sync } = await memorySync();
    const asked: (boolean | undefined)[] = [];
    const watched = delegatingStore(deps().mailbox, (inner) => ({
      listAll: async (options?: ListOptions) => {
        asked.push(options?.withItems);
        return inner.listAll(options);
      },
    }));
    server.put('acct', 'contacts', 'g0.txt', noteCodec.serialize(note('g0', 'Ginger')));
    firm.state = { ...firm.state, lastFailed: true };
    expect((await sync({ mailbox: watched, settings: { mode: 'complete' } })).toFirm.created).toBe(1);
    expect(asked).toEqual([false]);
  });
});
