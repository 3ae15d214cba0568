'use strict';
/**
 * Synchronous HTTP for the UrlFetchApp fake: a worker thread makes the request and
 * the calling thread blocks on Atomics.wait until the answer arrives, as
 * UrlFetchApp.fetch blocks an Apps Script execution.
 */
const path = require('node:path');
const {MessageChannel, Worker, receiveMessageOnPort} = require('node:worker_threads');

class SyncHttp {
  constructor() {
    this.flagBuffer = new SharedArrayBuffer(4);
    this.flag = new Int32Array(this.flagBuffer);
    const {port1, port2} = new MessageChannel();
    this.replies = port1;
    this.worker = new Worker(path.join(__dirname, 'sync_http_worker.js'), {
      workerData: {flag: this.flagBuffer, port: port2},
      transferList: [port2],
    });
    this.worker.unref();
    this.replies.unref();
    this.nextId = 1;
  }

  /**
   * Sends one request and waits for its answer.
   * @param {{url: string, method: string, headers: Object<string,string>, body?: Buffer}} request
   * @param {number} timeoutMs Longest wait.
   * @return {{status: number, headers: Object, body: Buffer} | {error: string} | {timedOut: true}}
   */
  request(request, timeoutMs) {
    const id = this.nextId++;
    Atomics.store(this.flag, 0, 0);
    this.worker.postMessage({id, ...request, body: request.body ? new Uint8Array(request.body) : null});
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let message;
      while ((message = receiveMessageOnPort(this.replies))) {
        if (message.message.id === id) {
          const answer = message.message;
          if (answer.error) return {error: answer.error};
          return {status: answer.status, headers: answer.headers, body: Buffer.from(answer.body)};
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.worker.postMessage({abort: id});
        return {timedOut: true};
      }
      Atomics.wait(this.flag, 0, 0, left);
      Atomics.store(this.flag, 0, 0);
    }
  }

  close() {
    return this.worker.terminate();
  }
}

module.exports = {SyncHttp};
