/**
 * Sidebar (server side): "Enrich selected rows". The page asks for a plan (columns, the
 * selected rows and the whole sheet with an estimate for each, nothing spent) and
 * checks the settings with a call that spends nothing; its Enrich button then hands the rows
 * to a run (Runs.js), which outlives the page.
 */

/**
 * Rows the sidebar may enrich, with what that would do.
 * @typedef {Object} RowsChoice
 * @property {boolean} available Whether there are such rows.
 * @property {string} label e.g. "A2:D51" or "rows 2–501".
 * @property {number} firstRow
 * @property {number} lastRow
 * @property {Estimate} estimate
 */

/**
 * What the sidebar needs to show before anything is enriched.
 * @typedef {Object} SidebarPlan
 * @property {string} sheetName The sheet.
 * @property {number} headerRow The 1-based header row.
 * @property {Array<string>} headers Header texts, for the mapping pickers.
 * @property {ColumnMapping} mapping The mapping in use.
 * @property {string} mappingProblem What columns are missing, in a sentence ('' when none).
 * @property {Array<{id: string, label: string, needsLinkedin: boolean}>} typeOptions The
 *     enrichment types offered (from the vocabulary).
 * @property {boolean} hasLinkedIn Whether the sheet has a LinkedIn column.
 * @property {Array<string>} types The types ticked.
 * @property {Object<string, number>} costs Credits per answer found, by type.
 * @property {{selection: RowsChoice, sheet: RowsChoice}} choices Selected rows and whole sheet.
 * @property {string} scope The choice to show ticked: 'selection' or 'sheet'.
 * @property {?ConnectionCheck} connection The settings check, when asked.
 * @property {string} callsNotice A warning when this spreadsheet nears Google's daily URL calls ('' otherwise).
 * @property {?RunView} run The current or last run.
 */

/** How often the open sidebar fills pending formula cells (ms): add-on timers run hourly at most. */
const SIDEBAR_POLL_MS = 30000;
/** How long one poll may ask the function (ms): google.script.run calls should stay short. */
const SIDEBAR_POLL_BUDGET_MS = 20000;

/**
 * Menu "Enrich selected rows…": opens the sidebar (and makes sure the Pronto timer runs,
 * so that a run goes on when the sidebar is closed).
 */
function showEnrichSidebar() {
  ensureTimerQuietly_();
  const html = page_('Sidebar').setTitle('Pronto enrichment');
  SpreadsheetApp.getUi().showSidebar(html);
}

/**
 * The plan for the active sheet (or the sheet the page shows).
 * @param {{sheetName?: string, selection?: {firstRow: number, lastRow: number, label: string}, mapping?: ColumnMapping, types?: Array<string>, scope?: string, check?: boolean}} [request]
 *     What the page shows and the person changed; check: verify the settings too.
 * @return {SidebarPlan} The plan.
 */
function getSidebarPlan(request) {
  const asked = request || {};
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  let sheet = spreadsheet.getActiveSheet();
  if (asked.sheetName) {
    const named = spreadsheet.getSheetByName(asked.sheetName);
    if (!named) {
      throw new Error('The sheet "' + asked.sheetName + '" no longer exists: reopen Pronto ▸ ' +
          'Enrich rows.');
    }
    sheet = named;
  }
  const table = openTable_(sheet, asked.mapping || savedMapping_(sheet), true);
  const dataFirst = table.headerRow + 1;
  const dataLast = Math.max(sheet.getLastRow(), table.headerRow);
  let selected = asked.selection || null;
  if (!selected) {
    const range = sheet.getActiveRange();
    if (range && range.getSheet().getName() === sheet.getName()) {
      selected = {firstRow: range.getRow(), lastRow: range.getLastRow(),
        label: range.getA1Notation()};
    }
  }
  const types = Array.isArray(asked.types) ? enrichmentTypeIds_().filter(function(id) {
    return /** @type {Array<string>} */ (asked.types).indexOf(id) !== -1;
  }) : [enrichmentTypeIds_()[0]];
  const costs = asked.check ? null : creditCosts_();
  const connection = asked.check ? checkConnection_() : null;
  const usedCosts = connection ? connection.costs : /** @type {Object<string, number>} */ (costs);
  const rows = table.problem || dataLast < dataFirst ? [] :
    readRows_(table, dataFirst, dataLast, types);
  /**
   * @param {number} first The first row asked.
   * @param {number} last The last row asked.
   * @param {string} label How to name them.
   * @return {RowsChoice} The choice.
   */
  function choice(first, last, label) {
    const from = Math.max(first, dataFirst);
    const to = Math.min(last, dataLast);
    return {
      available: to >= from,
      label: label,
      firstRow: from,
      lastRow: Math.max(to, from),
      estimate: estimateRows_(rows.filter(function(state) {
        return state.row >= from && state.row <= to;
      }), types, usedCosts),
    };
  }
  const whole = choice(dataFirst, dataLast, 'rows ' + dataFirst + '–' + dataLast);
  const selection = selected ? choice(selected.firstRow, selected.lastRow, selected.label) :
    {available: false, label: '', firstRow: 0, lastRow: 0, estimate: estimateRows_([], types, usedCosts)};
  // One cell selected is where the cursor happens to be, not a choice of rows.
  const meant = selection.available && selection.lastRow > selection.firstRow;
  let scope = asked.scope === 'sheet' || asked.scope === 'selection' ? asked.scope :
    meant ? 'selection' : 'sheet';
  if (scope === 'selection' && !selection.available) {
    scope = 'sheet';
  }
  return {
    sheetName: sheet.getName(),
    headerRow: table.headerRow,
    headers: table.headers,
    mapping: table.mapping,
    mappingProblem: table.problem,
    typeOptions: enrichmentTypes_().map(function(type) {
      return {id: type.name, label: type.label, needsLinkedin: type.needs_linkedin};
    }),
    hasLinkedIn: table.mapping.linkedin_url !== -1,
    types: types,
    costs: usedCosts,
    choices: {selection: selection, sheet: whole},
    scope: scope,
    connection: connection,
    callsNotice: callsNotice_(),
    run: getRunView(),
  };
}

/**
 * What the open sidebar asks every SIDEBAR_POLL_MS: fills the formula cells whose answers
 * arrived (an add-on's timer ticks hourly at most; the sidebar makes it a minute), and
 * keeps a timer for when the sidebar closes.
 * @return {{refreshed: number, waiting: number, problem: string, pollMs: number}} What it did,
 *     and why no timer will go on after the sidebar closes ('' when one will).
 */
function pollPendingCells() {
  if (!anyPendingCell_()) {
    return {refreshed: 0, waiting: 0, problem: '', pollMs: SIDEBAR_POLL_MS};
  }
  const timer = ensureTimerQuietly_();
  const done = refreshPendingCells_({timeoutS: PENDING_CHECK_TIMEOUT_S,
    deadline: Date.now() + SIDEBAR_POLL_BUDGET_MS});
  return {refreshed: done.refreshed, waiting: done.waiting, problem: timer.problem,
    pollMs: SIDEBAR_POLL_MS};
}

/**
 * A warning once this spreadsheet made most of the URL calls Google allows a consumer
 * account a day (counted by Client.js; an estimate: other spreadsheets count too).
 * @return {string} The sentence ('' when far from the limit).
 */
function callsNotice_() {
  const calls = fetchesToday_();
  return calls < 0.8 * URL_FETCH_DAY_LIMIT ? '' : 'This spreadsheet made ' + formatCount_(calls) +
      ' calls to the Pronto function today; Google allows ' + formatCount_(URL_FETCH_DAY_LIMIT) +
      ' URL calls a day to a Google account (100,000 with Google Workspace). Past that, lookups ' +
      'wait until the next day: enrich large sheets with the whole sheet at once, not formula by formula.';
}
