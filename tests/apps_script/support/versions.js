'use strict';
/**
 * The writes to a key-value store (a cache, a property store) placed on the clock, so that
 * executions the harness runs one after another but that Google would run at the same time
 * (formulas calculated together, `FakeGoogle.together`) each read what was there at their own
 * clock time: an execution run first may have written "later" than the one run second reads.
 * Without this, the second would see the first's future writes, and a read-modify-write
 * without a lock could never lose an update, as it does at Google.
 */

/** How far back a read may look: the longest a batch of executions spans, with room. */
const WINDOW_MS = 30 * 60000;
/** Versions kept per key (older ones cannot be read by anyone still running). */
const MAX_VERSIONS = 16;

class Versions {
  /** @param {function(): number} now The clock. */
  constructor(now) {
    this.now = now;
    this.byKey = new Map();
    this.seq = 0;
    this.sinceSweep = 0;
  }

  static later(a, b) {
    return a.at > b.at || (a.at === b.at && a.seq > b.seq);
  }

  /**
   * Records that `key` was written (`value`; null when removed) now.
   * @param {string} key
   * @param {*} value
   * @param {*} latest What the store holds for `key` before this write (its latest value):
   *     the baseline a read before every recorded write sees.
   * @return {boolean} Whether this is now the key's latest write on the clock (what a read
   *     after every running execution sees).
   */
  record(key, value, latest) {
    const now = this.now();
    const version = {at: now, seq: this.seq++, value};
    const known = this.byKey.get(key) || [{at: -Infinity, seq: -1, value: latest}];
    // Writes older than the window collapse into one baseline: the newest of them.
    const old = known.filter((v) => v.at < now - WINDOW_MS);
    const baseline = old.reduce((a, b) => (Versions.later(b, a) ? b : a), old[0]);
    const versions = [...(baseline ? [baseline] : []), ...known.filter((v) => v.at >= now - WINDOW_MS), version];
    if (versions.length > MAX_VERSIONS) versions.splice(0, versions.length - MAX_VERSIONS);
    this.byKey.set(key, versions);
    if (++this.sinceSweep >= 1000) this.sweep(now);
    return versions.every((v) => v === version || Versions.later(version, v));
  }

  /** Whether `key` has a write later on the clock than now (read with `at`, not the latest). */
  hasFuture(key) {
    const versions = this.byKey.get(key);
    if (!versions) return false;
    const now = this.now();
    return versions.some((v) => v.at > now);
  }

  /** Keys that have a write later on the clock than now. */
  futureKeys() {
    const now = this.now();
    return [...this.byKey].filter(([, versions]) => versions.some((v) => v.at > now)).map(([key]) => key);
  }

  /** What `key` held at now: {found, value}; not found when its first known write is later. */
  at(key) {
    const now = this.now();
    let best = null;
    for (const v of this.byKey.get(key) || []) if (v.at <= now && (!best || Versions.later(v, best))) best = v;
    return best ? {found: true, value: best.value} : {found: false, value: null};
  }

  /** Forgets keys whose every write is older than the window. */
  sweep(now) {
    this.sinceSweep = 0;
    for (const [key, versions] of this.byKey) if (versions.every((v) => v.at < now - WINDOW_MS)) this.byKey.delete(key);
  }
}

module.exports = {Versions};
