/**
 * Sidebar (server side): "Enrich selected rows". The page asks for a plan of
 * the selection (column mapping and an estimate, nothing spent), then sends the
 * rows chunk by chunk, one google.script.run call per chunk, each well inside
 * the 6-minute limit; Cancel simply stops sending chunks.
 */

/** Rows per chunk: one google.script.run call and one /enrich call each. */
const SIDEBAR_CHUNK_ROWS = 50;
/** Seconds the function may take per chunk (UrlFetchApp gives up after 60 s). */
const SIDEBAR_TIMEOUT_S = 40;

/**
 * What the sidebar needs to show before Start.
 * @typedef {Object} SidebarPlan
 * @property {string} sheetName The sheet.
 * @property {string} selection The selection in A1 notation.
 * @property {number} headerRow The 1-based header row.
 * @property {number} firstRow First data row of the selection.
 * @property {number} lastRow Last data row of the selection.
 * @property {Array<string>} headers Header texts, for the mapping pickers.
 * @property {ColumnMapping} mapping The mapping in use.
 * @property {Array<string>} types The enrichment types.
 * @property {Estimate} estimate What Start would do.
 * @property {number} chunkRows Rows per chunk.
 * @property {string} warning A sentence when something needs attention, else ''.
 */

/**
 * Menu "Enrich selected rows": opens the sidebar.
 */
function showEnrichSidebar() {
  const html = page_('Sidebar').setTitle('Pronto enrichment');
  SpreadsheetApp.getUi().showSidebar(html);
}

/**
 * The plan for the current selection (or for the rows given back by the page).
 * @param {{mapping?: ColumnMapping, types?: Array<string>, sheetName?: string, firstRow?: number, lastRow?: number, selection?: string}} [request]
 *     What the person changed in the sidebar (the rows it already shows, to keep them).
 * @return {SidebarPlan} The plan.
 */
function getSidebarPlan(request) {
  const asked = request || {};
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  let sheet = spreadsheet.getActiveSheet();
  let firstRow = 0;
  let lastRow = 0;
  let selection = '';
  if (asked.sheetName && asked.firstRow && asked.lastRow) {
    const named = spreadsheet.getSheetByName(asked.sheetName);
    if (!named) {
      throw new Error('The sheet "' + asked.sheetName + '" no longer exists: select rows ' +
          'again and reopen Pronto ▸ Enrich selected rows.');
    }
    sheet = named;
    firstRow = asked.firstRow;
    lastRow = asked.lastRow;
    selection = asked.selection || '';
  } else {
    const range = sheet.getActiveRange();
    if (range) {
      firstRow = range.getRow();
      lastRow = range.getLastRow();
      selection = range.getA1Notation();
    }
  }
  const table = openTable_(sheet, asked.mapping || null, true);
  if (!firstRow || lastRow <= table.headerRow) {
    firstRow = table.headerRow + 1;
    lastRow = Math.max(sheet.getLastRow(), firstRow);
    selection = selection || 'all rows';
  }
  firstRow = Math.max(firstRow, table.headerRow + 1);
  lastRow = Math.min(lastRow, Math.max(sheet.getLastRow(), firstRow));
  const types = asked.types && asked.types.length ? asked.types : ['email'];
  const credits = creditCosts_();
  const rows = table.problem ? [] : readRows_(table, firstRow, lastRow);
  return {
    sheetName: sheet.getName(),
    selection: selection || 'rows ' + firstRow + '–' + lastRow,
    headerRow: table.headerRow,
    firstRow: firstRow,
    lastRow: lastRow,
    headers: table.headers,
    mapping: table.mapping,
    types: types,
    estimate: estimateRows_(rows, types, credits.costs),
    chunkRows: SIDEBAR_CHUNK_ROWS,
    warning: table.problem || credits.warning,
  };
}

/**
 * Credits per email and phone: from the function's /healthz when it says, else
 * its defaults; the health check also surfaces a wrong URL before Start.
 * @return {{costs: {email: number, phone: number}, warning: string}} The costs and any warning.
 */
function creditCosts_() {
  const costs = {email: DEFAULT_CREDITS.email, phone: DEFAULT_CREDITS.phone};
  try {
    const health = callFunction_('GET', '/healthz', null, {auth: 'auto'});
    if (health && typeof health.credits_per_email === 'number') {
      costs.email = health.credits_per_email;
    }
    if (health && typeof health.credits_per_phone === 'number') {
      costs.phone = health.credits_per_phone;
    }
    return {costs: costs, warning: ''};
  } catch (e) {
    return {costs: costs, warning: /** @type {Error} */ (e).message};
  }
}

/**
 * Enriches one chunk of the sidebar's rows and writes the results.
 * @param {{sheetName: string, firstRow: number, lastRow: number, mapping: ColumnMapping, types: Array<string>}} request
 *     The chunk.
 * @return {RowsSummary} What the chunk did.
 */
function enrichSidebarChunk(request) {
  const sheet = SpreadsheetApp.getActiveSpreadsheet().getSheetByName(request.sheetName);
  if (!sheet) {
    throw new Error('The sheet "' + request.sheetName + '" no longer exists; nothing more ' +
        'was written.');
  }
  if (request.lastRow - request.firstRow + 1 > SIDEBAR_CHUNK_ROWS * 4) {
    throw new Error('A chunk of ' + (request.lastRow - request.firstRow + 1) + ' rows is too ' +
        'large: reopen the sidebar and start again.');
  }
  const table = openTable_(sheet, request.mapping);
  return enrichRows_(table, Math.max(request.firstRow, table.headerRow + 1), request.lastRow,
      request.types && request.types.length ? request.types : ['email'],
      {priority: 'batch', timeoutS: SIDEBAR_TIMEOUT_S});
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {showEnrichSidebar, getSidebarPlan, enrichSidebarChunk};
}
