'use strict';
/**
 * Starts the real servers the Apps Script code talks to, on 127.0.0.1 and free
 * ports: the Pronto simulator and the function served by functions-framework
 * exactly as Cloud Functions serves it. Readiness is a GET /healthz answering,
 * polled against a deadline (never a fixed sleep).
 */
const {spawn, spawnSync} = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..', '..');
// The project's virtualenv (scripts/bootstrap.sh makes it); else whatever is on PATH.
const VENV_BIN = process.env.PRONTO_VENV_BIN || path.join(REPO, '.venv', 'bin');
const HAS_VENV = fs.existsSync(path.join(VENV_BIN, 'python'));
const PYTHON = HAS_VENV ? path.join(VENV_BIN, 'python') : 'python3';
const FUNCTIONS_FRAMEWORK = HAS_VENV ? path.join(VENV_BIN, 'functions-framework') : 'functions-framework';
const STARTUP_DEADLINE_MS = 60000;
// Where the Python code is read from: the repository, or (PRONTO_TEST_CODE_ROOT) a copy of
// it, so that the add-in's tests can run against a known function while the package moves.
const CODE_ROOT = process.env.PRONTO_TEST_CODE_ROOT || REPO;
const PYTHON_PATH = [path.join(CODE_ROOT, 'function'), path.join(CODE_ROOT, 'tools')].join(path.delimiter);
// Budgets large enough that no test runs out of credits unless it means to.
const TEST_CREDITS = 10000000;
const LOG_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'pronto-apps-script-'));

/** A TCP port nothing listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function answers(url) {
  try {
    const response = await fetch(url, {signal: AbortSignal.timeout(1000)});
    return response.status < 500;
  } catch {
    return false;
  }
}

// Process groups of the servers still running: killed if Node exits before stopping them.
const LIVE_GROUPS = new Set();
const killLiveGroups_ = () => {
  for (const pid of LIVE_GROUPS) signalGroup_(pid, 'SIGKILL');
};
process.once('exit', killLiveGroups_);
// A signal ends Node without 'exit': clean up, then die of the same signal as before.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killLiveGroups_();
    process.kill(process.pid, signal);
  });
}

/** Sends a signal to a server's whole process group; a group already gone is fine. */
function signalGroup_(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
}

/** Spawns a server and resolves once GET {url}{ready} answers below 500. */
async function serve(name, command, args, {port, env, ready = '/healthz'}) {
  const logPath = path.join(LOG_DIR, `${name}-${port}.log`);
  const log = fs.openSync(logPath, 'w');
  const child = spawn(command, args, {
    cwd: REPO,
    env: {...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: PYTHON_PATH, ...env},
    stdio: ['ignore', log, log],
    // Its own process group: functions-framework serves through a gunicorn worker (a
    // child), which stop() must end too, or it outlives the tests holding its port.
    detached: true,
  });
  fs.closeSync(log);
  LIVE_GROUPS.add(child.pid);
  child.once('exit', () => {
    // The leader is gone; make sure nothing of its group is left behind.
    signalGroup_(child.pid, 'SIGKILL');
    LIVE_GROUPS.delete(child.pid);
  });
  const url = `http://127.0.0.1:${port}`;
  const served = {
    name, url, child, logPath,
    log: () => fs.readFileSync(logPath, 'utf8'),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const killer = setTimeout(() => signalGroup_(child.pid, 'SIGKILL'), 10000);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      signalGroup_(child.pid, 'SIGTERM');
    }),
  };
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited with ${child.exitCode}:\n${served.log()}`);
    }
    if (await answers(`${url}${ready}`)) return served;
    if (Date.now() > deadline) {
      await served.stop();
      throw new Error(`gave up after ${STARTUP_DEADLINE_MS / 1000}s waiting for ${name} on ${url}:\n${served.log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The Pronto simulator plus the function in front of it.
 * @param {{token?: string, apiKey?: string, latencyMs?: number, rate?: number, sheets?: boolean, asyncLane?: boolean, functionEnv?: Object}} [options]
 *     `apiKey` is the key the function sends (the simulator accepts "sim-key"); `rate` is
 *     Pronto's requests per second (50, as documented, unless a test needs speed); `sheets`
 *     adds the project's Sheets API emulator, which the function then fills through;
 *     `asyncLane` turns the function's async lane on (webhooks from the simulator).
 */
async function startStack(options = {}) {
  const token = options.token || 'sheet-token-for-tests';
  const [simPort, fnPort] = [await freePort(), await freePort()];
  const simulator = await serve('simulator', PYTHON, [
    '-m', 'pronto_sheets_dev.simulator', '--host', '127.0.0.1', '--port', String(simPort),
    '--latency-ms', String(options.latencyMs === undefined ? 20 : options.latencyMs),
    '--daily-credits', String(TEST_CREDITS),
    '--rate', String(options.rate || 50),
  ], {port: simPort, env: {}});
  let sheets = null;
  let fn;
  try {
    if (options.sheets) {
      const sheetsPort = await freePort();
      sheets = await serve('sheets-emulator', PYTHON, [
        '-m', 'pronto_sheets_dev.sheets_emulator', '--host', '127.0.0.1', '--port', String(sheetsPort),
      ], {port: sheetsPort, env: {}, ready: '/_emulator/healthz'});
    }
    // Each stack its own store: never the person's cache directory, nothing kept between runs.
    const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pronto-store-'));
    fn = await serve('function', FUNCTIONS_FRAMEWORK, [
      '--source', path.join(CODE_ROOT, 'function', 'main.py'), '--target', 'pronto',
      '--host', '127.0.0.1', '--port', String(fnPort),
    ], {
      port: fnPort,
      env: {
        PRONTO_API_KEY: options.apiKey || 'sim-key',
        PRONTO_BASE_URL: simulator.url,
        PRONTO_SHEETS_TOKENS: token,
        PRONTO_DAILY_CREDIT_BUDGET: String(TEST_CREDITS),
        PRONTO_RATE_PER_SECOND: String(options.rate || 50),
        PRONTO_STORE: `sqlite://${path.join(storeDir, 'store.db')}`,
        ...(sheets ? {SHEETS_API_BASE_URL: sheets.url} : {}),
        // The async lane (docs/async-lane.md): the function's public URL is its own address,
        // where the simulator POSTs its webhooks.
        ...(options.asyncLane ? {PRONTO_PUBLIC_URL: `http://127.0.0.1:${fnPort}`,
          PRONTO_WEBHOOK_SECRET: 'hook-secret-for-apps-script-tests'} : {}),
        ...(options.functionEnv || {}),
      },
    });
  } catch (error) {
    await Promise.all([simulator.stop(), sheets && sheets.stop()]);
    throw error;
  }
  const control = async (method, route, body, base = simulator.url) => {
    const response = await fetch(`${base}${route}`, {
      method,
      headers: body ? {'Content-Type': 'application/json'} : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) throw new Error(`${base}${route} answered ${response.status}: ${await response.text()}`);
    return response.json();
  };
  const sheetsControl = (method, route, body) => {
    if (!sheets) throw new Error('start the stack with {sheets: true} to use the Sheets emulator');
    return control(method, route, body, sheets.url);
  };
  return {
    token,
    functionUrl: fn.url,
    simulatorUrl: simulator.url,
    sheetsUrl: sheets ? sheets.url : null,
    simulatorStats: () => control('GET', '/_simulator/stats'),
    resetSimulator: () => control('POST', '/_simulator/reset'),
    configureSimulator: (changes) => control('POST', '/_simulator/config', changes),
    logs: () => ({simulator: simulator.log(), function: fn.log(), sheets: sheets && sheets.log()}),
    /** Puts a spreadsheet in the Sheets emulator ("the same" one the fake SpreadsheetApp holds). */
    createSpreadsheet: (spreadsheetId, sheets, shared) => sheetsControl('POST', '/_emulator/spreadsheets',
        {spreadsheetId, shared, sheets: Object.entries(sheets).map(([title, rows]) => ({title, rows}))}),
    /** One sheet's cells as the emulator holds them. */
    spreadsheetCells: (spreadsheetId, title) => sheetsControl('GET',
        `/_emulator/spreadsheets/${encodeURIComponent(spreadsheetId)}/cells?sheet=${encodeURIComponent(title)}`),
    stop: () => Promise.all([fn.stop(), simulator.stop(), sheets && sheets.stop()]),
  };
}

/**
 * The answers the simulator gives, straight from its own pure function
 * (pronto_sheets_dev.simulator.outcomes.simulated_outcome), for contacts as the
 * function forwards them.
 * @param {Array<{firstname: string, lastname: string, domain?: string, company_name?: string, linkedin_url?: string}>} contacts
 * @return {Array<{email: ?string, email_status: ?string, phones: Array<string>, phone_shape: string, personal_email: ?string, personal_email_status: ?string}>}
 *     phone_shape: "object" when Pronto sends the phone with its type (mobile), else "string".
 */
function simulatedOutcomes(contacts) {
  const script = [
    'import json, sys',
    'from pronto_sheets.enrich.contacts import Contact',
    'from pronto_sheets_dev.simulator.outcomes import simulated_outcome',
    'out = []',
    'for raw in json.load(sys.stdin):',
    '    c = Contact.from_mapping(raw)',
    '    o = simulated_outcome(c.firstname, c.lastname, c.domain or None, c.company_name or None, c.linkedin_url or None)',
    '    out.append({"email": o.email, "email_status": o.email_status, "phones": list(o.phones), "phone_shape": o.phone_shape,',
    '                "personal_email": o.personal_email, "personal_email_status": o.personal_email_status})',
    'json.dump(out, sys.stdout)',
  ].join('\n');
  const result = spawnSync(PYTHON, ['-c', script], {
    cwd: REPO, input: JSON.stringify(contacts), encoding: 'utf8',
    env: {...process.env, PYTHONPATH: PYTHON_PATH},
  });
  if (result.status !== 0) throw new Error(`simulated_outcome failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

module.exports = {startStack, simulatedOutcomes, freePort, REPO};
