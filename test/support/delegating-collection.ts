import type { MailboxCollection, MailboxStore } from '../../src/mailbox/port.js';

/**
 * A collection that passes every call to `inner`, except those given in `overrides`:
 * for tests that slip another client's edit in just before one of Liaison's writes, or
 * that watch its reads.
 * (Adapters keep private fields, so a prototype copy of them would not work.)
 */
export function delegatingCollection(
  inner: MailboxCollection,
  overrides: Partial<
    Pick<MailboxCollection, 'read' | 'create' | 'update' | 'delete' | 'changesSince' | 'listAll'>
  >,
): MailboxCollection {
  return {
    kind: inner.kind,
    location: inner.location,
    probeFromListing: inner.probeFromListing,
    keepsChangeList: inner.keepsChangeList,
    list: () => inner.list(),
    sendStarted: () => inner.sendStarted(),
    listAll: (o) => inner.listAll(o),
    probe: () => inner.probe(),
    currentToken: () => inner.currentToken(),
    changesSince: (t, o) => inner.changesSince(t, o),
    read: (hrefs) => inner.read(hrefs),
    holds: (href) => inner.holds(href),
    create: (uid, text) => inner.create(uid, text),
    update: (href, text, ifMatch) => inner.update(href, text, ifMatch),
    delete: (href, ifMatch) => inner.delete(href, ifMatch),
    ...overrides,
  };
}

/**
 * `store` with every collection it opens passed through {@link delegatingCollection} with
 * the overrides `overridesFor` gives for it.
 */
export function delegatingStore(
  store: MailboxStore,
  overridesFor: (inner: MailboxCollection) => Parameters<typeof delegatingCollection>[1],
): MailboxStore {
  return {
    location: store.location,
    readMarker: () => store.readMarker(),
    writeMarker: (n) => store.writeMarker(n),
    sendStarted: () => store.sendStarted(),
    async collection(kind) {
      const c = await store.collection(kind);
      return delegatingCollection(c, overridesFor(c));
    },
  };
}
