// Plain objects used as maps keyed by user text (label keys, build-arg names, runtime names,
// option keys). `obj[key]` also finds what Object.prototype has: "constructor", "toString",
// "hasOwnProperty"... would read a function and be taken for a configured entry, and
// `obj["__proto__"] = v` changes the prototype (or is dropped) instead of storing the key.
// These two helpers look at and write own properties only.

/** The value stored under `key` itself, never one inherited from a prototype. */
export function getOwn<V>(obj: Readonly<Record<string, V>> | undefined, key: string): V | undefined {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Stores `value` under `key` as an own, enumerable property (`__proto__` included). */
export function setOwn<V>(obj: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}
