// IndexedDB for the outbox tests, without a browser.
import "fake-indexeddb/auto";
