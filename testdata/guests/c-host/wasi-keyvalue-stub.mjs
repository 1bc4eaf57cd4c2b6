// An in-memory stand-in for wasi:keyvalue/store@0.2.0-draft2, for smoke-testing the
// c-host guest under `jco transpile` in Node (scripts/build-guests.sh maps the interface
// here with --map; the Spin interfaces' stand-ins are in scripts/guests/tools/spin-stub.mjs).
// Not a host: just enough to show that the guest's hand-written canonical ABI round-trips
// the bucket resource, option<list<u8>> and the key-response record.
const ok = (val) => ({ tag: "ok", val });
const err = (val) => ({ tag: "err", val });
const buckets = new Map([["default", new Map()]]);

export const store = {
  open(identifier) {
    if (!buckets.has(identifier)) return err({ tag: "access-denied" });
    const b = new store.Bucket();
    b.m = buckets.get(identifier);
    return ok(b);
  },
  Bucket: class Bucket {
    get(key) { return this.m.get(key); }
    set(key, value) { this.m.set(key, value); }
    delete(key) { this.m.delete(key); }
    exists(key) { return this.m.has(key); }
    listKeys(cursor) { return { keys: [...this.m.keys()].sort(), cursor }; }
  },
};
