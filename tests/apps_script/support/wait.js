'use strict';
/** Waiting on a condition with a deadline (never a fixed sleep). */

/**
 * Resolves once `condition()` is truthy; rejects after `timeoutMs`, naming `what`.
 * @param {function(): (boolean|Promise<boolean>)} condition
 * @param {{timeoutMs?: number, intervalMs?: number, what?: string}} [options]
 */
async function waitFor(condition, {timeoutMs = 30000, intervalMs = 100, what = 'the condition'} = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

module.exports = {waitFor};
