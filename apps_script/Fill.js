/**
 * Fill: the hand-off to the function's own fill (POST /fill, through the Sheets API):
 * the one place that builds its request body and reads its answers (the plan of a
 * dry run, the summary of a fill) into counts. The menu's "Fill this sheet on the
 * server", sidebar runs (ServerRun.js) and the schedule use it.
 */

/**
 * What to fill.
 * @typedef {Object} FillRequest
 * @property {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @property {Array<string>} [types] The types to find (the function's default when absent).
 * @property {?ColumnMapping} [mapping] The input columns picked (detected from the headers when absent).
 * @property {number} [headerRow] The header row, when the sidebar knows it.
 * @property {number} [firstRow] The first row (default: below the header).
 * @property {number} [lastRow] The last row (default: the sheet's last).
 */

/**
 * What a fill's summary says.
 * @typedef {Object} FillOutcome
 * @property {Object<string, number>} counts Rows by count name (COUNTS).
 * @property {number} waitingForTomorrow Rows left when the credit budget ran out (0 otherwise).
 * @property {Object<string, string>} notices Account-level notices by code.
 * @property {string} stopped Why the fill stopped early, in a sentence ('' when it did not).
 * @property {number} credits Credits spent.
 * @property {string} lane 'async' when the function filled through Pronto's async lane, else 'sync'.
 */

/**
 * What a dry run (a plan: nothing read from Pronto, nothing written) says.
 * @typedef {Object} FillPlan
 * @property {number} rows Rows with a contact.
 * @property {number} toLookUp People to look up.
 * @property {number} filled Rows already filled.
 * @property {number} duplicates Rows repeating a person.
 * @property {number} invalid Rows missing details.
 * @property {number} needsLinkedin Rows needing a LinkedIn URL for a type asked.
 * @property {number} credits Credits at most.
 */

/**
 * The body of POST /fill.
 * @param {FillRequest} request What to fill.
 * @param {boolean} dryRun Plan only: count, write nothing, spend nothing.
 * @return {Object<string, *>} The body.
 */
function fillBody_(request, dryRun) {
  /** @type {Object<string, *>} */
  const body = {
    spreadsheet_id: SpreadsheetApp.getActiveSpreadsheet().getId(),
    sheet: request.sheet.getName(),
  };
  if (request.types) {
    body.enrichment_type = request.types;
  }
  if (request.firstRow) {
    body.first_row = request.firstRow;
    body.last_row = request.lastRow;
  }
  if (request.headerRow) {
    // The sidebar knows the header row: column letters alone could not tell the function.
    body.header_row = request.headerRow;
  }
  if (request.mapping) {
    body.columns = fillColumns_(checkedMapping_(request.mapping, Infinity));
  }
  if (dryRun) {
    body.dry_run = true;
  }
  return body;
}

/**
 * Calls POST /fill.
 * @param {FillRequest} request What to fill.
 * @param {boolean} dryRun Plan only.
 * @return {*} The function's answer (a plan or a summary); throws its sentence.
 */
function callFill_(request, dryRun) {
  return callFunction_('POST', '/fill', fillBody_(request, dryRun), {auth: 'auto'});
}

/**
 * The columns POST /fill takes for a mapping: each input field present, by letter.
 * @param {ColumnMapping} mapping The mapping.
 * @return {Object<string, string>} e.g. {firstname: 'A', domain: 'C'}.
 */
function fillColumns_(mapping) {
  /** @type {Object<string, string>} */
  const columns = {};
  Object.keys(mapping).forEach(function(field) {
    if (mapping[field] !== -1) {
      columns[field] = columnLetter_(mapping[field]);
    }
  });
  return columns;
}

/**
 * Reads a fill's summary.
 * @param {*} summary The answer of POST /fill.
 * @return {FillOutcome} What it did.
 */
function fillOutcome_(summary) {
  const counts = countsOfFill_(summary);
  return {
    counts: counts,
    waitingForTomorrow: counts.overBudget ? counts.overBudget + (Number(summary.remaining) || 0) : 0,
    notices: Object.assign({}, summary.notices || {}),
    stopped: summary.stopped ? String(summary.stopped) : '',
    credits: Number(summary.credits) || 0,
    lane: summary.lane === 'async' ? 'async' : 'sync',
  };
}

/**
 * What the sidebar says of rows a fill on the async lane left waiting for Pronto. Only
 * another POST /fill writes them (the sidebar's Enrich, the menu's Fill on the server, or
 * the schedule); it joins the answers already on their way, so nothing is paid again.
 * @param {number} waiting The rows waiting.
 * @return {string} The sentence ('' when none wait).
 */
function waitingSentence_(waiting) {
  if (!waiting) {
    return '';
  }
  return formatCount_(waiting) + (waiting === 1 ? ' row is' : ' rows are') + ' waiting for ' +
      'Pronto; the next run writes ' + (waiting === 1 ? 'it' : 'them') + ' without paying again ' +
      '(Enrich these rows again, or the scheduled refresh).';
}

/**
 * Reads a dry run's plan (older functions name some fields differently).
 * @param {*} plan The answer of POST /fill with dry_run.
 * @return {FillPlan} The plan.
 */
function fillPlan_(plan) {
  return {
    rows: Number(plan.rows) || 0,
    toLookUp: firstNumber_(plan, ['to_call', 'unique', 'to_enrich']),
    filled: Number(plan.skipped_filled) || 0,
    duplicates: Number(plan.duplicates) || 0,
    invalid: Number(plan.invalid) || 0,
    needsLinkedin: Number(plan.needs_linkedin) || 0,
    credits: firstNumber_(plan, ['estimated_credits', 'credits']),
  };
}

/**
 * The first numeric field present among some names.
 * @param {*} object The object.
 * @param {Array<string>} names Field names, preferred first.
 * @return {number} The value (0 when none).
 */
function firstNumber_(object, names) {
  for (let i = 0; i < names.length; i++) {
    if (object && typeof object[names[i]] === 'number') {
      return object[names[i]];
    }
  }
  return 0;
}
