/**
 * Rows: reading contacts from a sheet's rows and writing results back, each on
 * its own row, as plain values (never formulas), into the output columns
 * Email, Email status, Phone, Phone status and Pronto status.
 *
 * A row is done when it has an Email or a Phone, or its Pronto status starts
 * with success or not_found; invalid, failed, over_budget and pending rows are
 * looked at again. Used by the sidebar and by the scheduled refresh.
 */

/** How many top rows are searched for the header row. */
const HEADER_SEARCH_ROWS = 10;
/** Statuses after which a row is done. */
const DONE_STATUSES = ['success', 'not_found'];
/** What the Pronto status column says of a row still being searched. */
const PENDING_STATUS_TEXT = 'pending: still searching; run again in a minute to collect it (no extra credit)';
/** What it says of a row handed to the function's own fill (POST /fill), until the fill writes it. */
const QUEUED_STATUS_TEXT = 'pending: queued for the Pronto function';
/** Between the phone numbers of one row. */
const PHONE_SEPARATOR = ', ';

/**
 * A sheet whose header row and columns are known.
 * @typedef {Object} SheetTable
 * @property {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @property {number} headerRow The 1-based header row.
 * @property {Array<string>} headers The header texts.
 * @property {ColumnMapping} mapping Input columns.
 * @property {OutputColumns} outputs Output columns (-1 until created).
 * @property {string} problem What columns are missing, in a sentence ('' when none).
 */

/**
 * One data row as read.
 * @typedef {Object} RowState
 * @property {number} row The 1-based row number.
 * @property {ContactEntry} entry Its contact.
 * @property {boolean} done Whether it already has a result.
 */

/**
 * What the sidebar shows before anything is spent.
 * @typedef {Object} Estimate
 * @property {number} rows Non-blank rows.
 * @property {number} toEnrich Distinct contacts that will be looked up.
 * @property {number} filled Rows that already have a result.
 * @property {number} duplicates Rows repeating a contact counted above.
 * @property {number} invalid Rows missing a name or a company, domain or LinkedIn.
 * @property {number} credits Credits spent at most (if everything is found).
 */

/**
 * What enriching some rows did.
 * @typedef {Object} RowsSummary
 * @property {number} rows Non-blank rows looked at.
 * @property {number} enriched Rows that got an answer now (found or not).
 * @property {number} found Rows with an email or phone found now.
 * @property {number} notFound Rows Pronto found nothing for.
 * @property {number} filled Rows skipped because they already had a result.
 * @property {number} duplicates Rows sharing a contact with another row looked up now.
 * @property {number} invalid Rows missing details.
 * @property {number} pending Rows still being searched.
 * @property {number} failed Rows whose lookup failed.
 * @property {number} overBudget Rows stopped by the credit budget.
 * @property {number} changed Rows edited or moved meanwhile, left for the next run.
 * @property {number} calls POST /enrich calls made.
 * @property {number} cacheHits Contacts answered from the cache.
 * @property {Array<number>} pendingRows The rows still being searched.
 * @property {?number} creditsSpentToday The function's count after this chunk.
 * @property {?number} creditBudget The function's daily budget.
 * @property {string} stop A sentence when the run should stop (a rejected key), else ''.
 */

/**
 * Finds the header row and the columns of a sheet.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {?ColumnMapping} [override] A mapping chosen by the person.
 * @param {boolean} [allowIncomplete] Return the table even when columns are
 *     missing (with the sentence in `problem`) so the sidebar can offer to pick them.
 * @return {SheetTable} The table.
 */
function openTable_(sheet, override, allowIncomplete) {
  const lastRow = sheet.getLastRow();
  const lastColumn = sheet.getLastColumn();
  if (lastRow === 0 || lastColumn === 0) {
    throw new Error('The sheet "' + sheet.getName() + '" is empty: add a header row (First ' +
        'name, Last name, Company) and one contact per row below it.');
  }
  const top = sheet.getRange(1, 1, Math.min(HEADER_SEARCH_ROWS, lastRow), lastColumn).getValues();
  let headerIndex = findHeaderRow_(top);
  if (headerIndex === -1) {
    headerIndex = 0;
  }
  const headers = top[headerIndex].map(cellText_);
  const mapping = override ? checkedMapping_(override, headers.length) : detectColumns_(headers);
  let problem = mappingProblem_(mapping);
  if (problem) {
    const found = headers.filter(Boolean).map(function(header) {
      return '"' + header + '"';
    }).join(', ') || 'none';
    problem = 'Pronto needs ' + problem + ' in "' + sheet.getName() + '". Headers found: ' +
        found + '. Expected headers such as First name, Last name, Full name, Company, ' +
        'Website or LinkedIn (English or French): rename the columns, or pick them in the ' +
        'sidebar.';
    if (!allowIncomplete) {
      throw new Error(problem);
    }
  }
  return {
    sheet: sheet,
    headerRow: headerIndex + 1,
    headers: headers,
    mapping: mapping,
    outputs: findOutputColumns_(headers),
    problem: problem,
  };
}

/**
 * Validates a mapping sent back by the sidebar.
 * @param {*} mapping The mapping.
 * @param {number} width The number of columns.
 * @return {ColumnMapping} A clean mapping.
 */
function checkedMapping_(mapping, width) {
  /** @type {Object<string, number>} */
  const clean = {};
  INPUT_ROLES.forEach(function(role) {
    const index = Number(mapping && mapping[role]);
    clean[role] = Number.isInteger(index) && index >= 0 && index < width ? index : -1;
  });
  return /** @type {ColumnMapping} */ (/** @type {*} */ (clean));
}

/**
 * The contact of one row's values.
 * @param {Array<*>} values The row's values.
 * @param {ColumnMapping} mapping The input columns.
 * @return {ContactEntry} The entry.
 */
function rowContact_(values, mapping) {
  /**
   * @param {number} index A column index or -1.
   * @return {*} The cell value.
   */
  function at(index) {
    return index === -1 ? '' : values[index];
  }
  return buildContact_({
    first: at(mapping.first),
    last: at(mapping.last),
    full: at(mapping.full),
    company: at(mapping.company),
    domain: at(mapping.domain),
    linkedin: at(mapping.linkedin),
  });
}

/**
 * Whether a row already has a result.
 * @param {Array<*>} values The row's values.
 * @param {OutputColumns} outputs The output columns.
 * @return {boolean} True when done.
 */
function isRowDone_(values, outputs) {
  /**
   * @param {number} index A column index or -1.
   * @return {string} The cell text.
   */
  function text(index) {
    return index === -1 ? '' : cellText_(values[index]);
  }
  if (text(outputs.email) || text(outputs.phone)) {
    return true;
  }
  const status = text(outputs.status).toLowerCase();
  return DONE_STATUSES.some(function(done) {
    return status.indexOf(done) === 0;
  });
}

/**
 * Reads rows firstRow..lastRow of a table.
 * @param {SheetTable} table The table.
 * @param {number} firstRow The first 1-based row (below the header).
 * @param {number} lastRow The last 1-based row.
 * @return {Array<RowState>} One state per row, in order.
 */
function readRows_(table, firstRow, lastRow) {
  if (lastRow < firstRow) {
    return [];
  }
  const width = Math.max(table.sheet.getLastColumn(), 1);
  const values = table.sheet.getRange(firstRow, 1, lastRow - firstRow + 1, width).getValues();
  return values.map(function(rowValues, offset) {
    return {
      row: firstRow + offset,
      entry: rowContact_(rowValues, table.mapping),
      done: isRowDone_(rowValues, table.outputs),
    };
  });
}

/**
 * Counts what enriching these rows would do, before anything is spent.
 * @param {Array<RowState>} rows The rows.
 * @param {Array<string>} types The enrichment types.
 * @param {Object<string, number>} credits Credits per answer found, by type id.
 * @return {Estimate} The estimate.
 */
function estimateRows_(rows, types, credits) {
  /** @type {Object<string, boolean>} */
  const seen = {};
  /** @type {Estimate} */
  const estimate = {rows: 0, toEnrich: 0, filled: 0, duplicates: 0, invalid: 0, credits: 0};
  rows.forEach(function(state) {
    if (state.entry.blank) {
      return;
    }
    estimate.rows++;
    if (state.done) {
      estimate.filled++;
    } else if (!state.entry.contact) {
      estimate.invalid++;
    } else if (seen[state.entry.key]) {
      estimate.duplicates++;
    } else {
      seen[state.entry.key] = true;
      estimate.toEnrich++;
    }
  });
  const perContact = types.reduce(function(total, type) {
    return total + (credits[type] || 0);
  }, 0);
  estimate.credits = estimate.toEnrich * perContact;
  return estimate;
}

/**
 * Adds the output columns the header row lacks, after the last used column.
 * @param {SheetTable} table The table (its outputs are updated).
 */
function ensureOutputColumns_(table) {
  const sheet = table.sheet;
  const fields = ['email', 'emailStatus', 'phone', 'phoneStatus', 'status'];
  const missing = fields.filter(function(field) {
    return table.outputs[/** @type {keyof OutputColumns} */ (field)] === -1;
  });
  if (!missing.length) {
    return;
  }
  const lastColumn = sheet.getLastColumn();
  const needed = lastColumn + missing.length;
  if (sheet.getMaxColumns() < needed) {
    sheet.insertColumnsAfter(sheet.getMaxColumns(), needed - sheet.getMaxColumns());
  }
  const headers = missing.map(function(field) {
    return OUTPUT_HEADERS[fields.indexOf(field)];
  });
  sheet.getRange(table.headerRow, lastColumn + 1, 1, missing.length).setValues([headers]);
  missing.forEach(function(field, offset) {
    table.outputs[/** @type {keyof OutputColumns} */ (field)] = lastColumn + offset;
    table.headers[lastColumn + offset] = headers[offset];
  });
}

/**
 * A value written so that Sheets keeps it as the text it is: a leading = + - @
 * would make a formula (or eat the + of a phone), digits would become a number.
 * @param {*} value The value.
 * @return {string} The text to write.
 */
function plainText_(value) {
  const text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@']/.test(text) || /^[\d\s().,/:-]+$/.test(text) && /\d/.test(text)) {
    return "'" + text;
  }
  return text;
}

/**
 * The Pronto status text of a result: the status code, then a short message.
 * @param {EnrichResult} result The result.
 * @return {string} e.g. "not_found: No email or phone found for this profile".
 */
function statusText_(result) {
  if (result.status === 'pending') {
    return PENDING_STATUS_TEXT;
  }
  const message = result.status === 'success' ? '' : (result.message || '').trim();
  return message ? result.status + ': ' + message : result.status;
}

/**
 * The output values of one row.
 * @param {EnrichResult} result The row's result.
 * @param {Array<string>} types The enrichment types asked.
 * @return {Object<string, string>} Values by output field (only the fields to write).
 */
function outputValues_(result, types) {
  /** @type {Object<string, string>} */
  const values = {status: statusText_(result)};
  if (result.status !== 'success' && result.status !== 'not_found') {
    // "Look again later" and "fix the row" only say so: they never erase a value.
    return values;
  }
  if (types.indexOf('email') !== -1) {
    values.email = result.status === 'success' ? result.email || '' : '';
    values.emailStatus = values.email ? result.email_status || '' : 'not_found';
  }
  if (types.indexOf('phone') !== -1) {
    values.phone = result.status === 'success' ? phoneNumbers_(result) : '';
    values.phoneStatus = values.phone ? phoneStatusText_(result) : 'not_found';
  }
  return values;
}

/**
 * Every phone number of a result, in Pronto's order ('' when none): the Phone cell.
 * @param {EnrichResult} result The result.
 * @return {string} e.g. "+33612345678, +33145678901".
 */
function phoneNumbers_(result) {
  return (result.phones || []).map(function(phone) {
    return phone.number;
  }).join(PHONE_SEPARATOR);
}

/**
 * The Phone status cell: Pronto's verdict, then each number's type when Pronto gives it.
 * @param {EnrichResult} result The result.
 * @return {string} e.g. "valid (mobile, work)".
 */
function phoneStatusText_(result) {
  const phones = result.phones || [];
  const kinds = phones.some(function(phone) {
    return phone.type;
  }) ? phones.map(function(phone) {
      return phone.type || 'unknown type';
    }) : [];
  const status = result.phone_status || '';
  if (!kinds.length) {
    return status;
  }
  return (status ? status + ' ' : '') + '(' + kinds.join(', ') + ')';
}

/**
 * Writes output values, row by row, as plain values: one setValues per run of
 * consecutive rows and adjacent output columns.
 * @param {SheetTable} table The table (output columns present).
 * @param {Array<{row: number, values: Object<string, string>}>} writes The rows to write, in row order.
 */
function writeOutputs_(table, writes) {
  /** @type {Object<string, Array<{row: number, values: Object<string, string>}>>} */
  const bySignature = {};
  writes.forEach(function(write) {
    const signature = Object.keys(write.values).sort().join(',');
    (bySignature[signature] = bySignature[signature] || []).push(write);
  });
  Object.keys(bySignature).forEach(function(signature) {
    writeSameFields_(table, bySignature[signature]);
  });
}

/**
 * Writes rows that all set the same output fields (see writeOutputs_).
 * @param {SheetTable} table The table.
 * @param {Array<{row: number, values: Object<string, string>}>} writes The rows, in row order.
 */
function writeSameFields_(table, writes) {
  const fields = Object.keys(writes[0].values).sort(function(a, b) {
    return table.outputs[/** @type {keyof OutputColumns} */ (a)] -
        table.outputs[/** @type {keyof OutputColumns} */ (b)];
  });
  /** @type {Array<Array<string>>} */
  const blocks = [];
  fields.forEach(function(field) {
    const column = table.outputs[/** @type {keyof OutputColumns} */ (field)];
    const last = blocks[blocks.length - 1];
    const lastColumn = last ?
      table.outputs[/** @type {keyof OutputColumns} */ (last[last.length - 1])] : -2;
    if (last && column === lastColumn + 1) {
      last.push(field);
    } else {
      blocks.push([field]);
    }
  });
  let start = 0;
  while (start < writes.length) {
    let end = start;
    while (end + 1 < writes.length && writes[end + 1].row === writes[end].row + 1) {
      end++;
    }
    const run = writes.slice(start, end + 1);
    blocks.forEach(function(block) {
      const column = table.outputs[/** @type {keyof OutputColumns} */ (block[0])];
      table.sheet.getRange(run[0].row, column + 1, run.length, block.length).setValues(
          run.map(function(write) {
            return block.map(function(field) {
              return plainText_(write.values[field]);
            });
          }));
    });
    start = end + 1;
  }
}

/**
 * Enriches the rows firstRow..lastRow that have no result yet, and writes each
 * result on its own row. Rows edited or moved while Pronto was searching are
 * left alone (never a result on the wrong row).
 * @param {SheetTable} table The table.
 * @param {number} firstRow The first 1-based row.
 * @param {number} lastRow The last 1-based row.
 * @param {Array<string>} types The enrichment types.
 * @param {{priority: string, timeoutS: number, overwrite?: boolean, onlyRows?: Array<number>}} options
 *     How to ask; onlyRows: look at these rows only (the others are not counted).
 * @return {RowsSummary} What was done.
 */
function enrichRows_(table, firstRow, lastRow, types, options) {
  const rows = readRows_(table, firstRow, lastRow);
  /** @type {RowsSummary} */
  const summary = {
    rows: 0, enriched: 0, found: 0, notFound: 0, filled: 0, duplicates: 0, invalid: 0,
    pending: 0, failed: 0, overBudget: 0, changed: 0, calls: 0, cacheHits: 0, pendingRows: [],
    creditsSpentToday: null, creditBudget: null, stop: '',
  };
  /** @type {Array<RowState>} */
  const targets = [];
  /** @type {Object<string, boolean>} */
  const seen = {};
  rows.forEach(function(state) {
    if (state.entry.blank || (options.onlyRows && options.onlyRows.indexOf(state.row) === -1)) {
      return;
    }
    summary.rows++;
    if (state.done && !options.overwrite) {
      summary.filled++;
      return;
    }
    targets.push(state);
    if (state.entry.contact) {
      if (seen[state.entry.key]) {
        summary.duplicates++;
      }
      seen[state.entry.key] = true;
    }
  });
  if (!targets.length) {
    return summary;
  }
  const lookup = lookupContacts_(targets.filter(function(state) {
    return Boolean(state.entry.contact);
  }).map(function(state) {
    return {key: state.entry.key, contact: /** @type {Contact} */ (state.entry.contact)};
  }), types, {priority: options.priority, timeoutS: options.timeoutS, auth: 'auto'});
  summary.calls = lookup.stats.calls;
  summary.cacheHits = lookup.stats.cacheHits;
  if (lookup.stats.serverStats) {
    summary.creditsSpentToday = lookup.stats.serverStats.credits_spent_today;
    summary.creditBudget = lookup.stats.serverStats.credit_budget;
  }
  const lock = LockService.getDocumentLock() || LockService.getScriptLock();
  lock.waitLock(30000);
  try {
    ensureOutputColumns_(table);
    const current = readRows_(table, firstRow, lastRow);
    /** @type {Array<{row: number, values: Object<string, string>}>} */
    const writes = [];
    targets.forEach(function(state) {
      const now = current[state.row - firstRow];
      if (!now || now.entry.key !== state.entry.key || now.entry.invalidReason !==
          state.entry.invalidReason || (now.done && !options.overwrite)) {
        summary.changed++;
        return;
      }
      /** @type {EnrichResult} */
      const result = state.entry.contact ? lookup.results[state.entry.key] : {
        status: 'invalid', email: null, email_status: null, phones: [], phone_status: null,
        message: state.entry.invalidReason,
      };
      countResult_(summary, result);
      if (result.status === 'pending') {
        summary.pendingRows.push(state.row);
      }
      writes.push({row: state.row, values: outputValues_(result, types)});
    });
    writeOutputs_(table, writes);
    SpreadsheetApp.flush();
  } finally {
    lock.releaseLock();
  }
  const answered = summary.enriched + summary.failed + summary.overBudget;
  if (answered && !summary.enriched) {
    const failure = Object.keys(lookup.results).map(function(key) {
      return lookup.results[key];
    }).filter(function(result) {
      return result.status === 'failed' || result.status === 'over_budget';
    })[0];
    summary.stop = failure ? describeRowFailure_(failure) : '';
  }
  return summary;
}

/**
 * Adds one row's result to the counts.
 * @param {RowsSummary} summary The counts.
 * @param {EnrichResult} result The result.
 */
function countResult_(summary, result) {
  switch (result.status) {
    case 'success':
      summary.enriched++;
      summary.found++;
      break;
    case 'not_found':
      summary.enriched++;
      summary.notFound++;
      break;
    case 'invalid':
      summary.invalid++;
      break;
    case 'pending':
      summary.pending++;
      break;
    case 'over_budget':
      summary.overBudget++;
      break;
    default:
      summary.failed++;
  }
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {openTable_, readRows_, estimateRows_, enrichRows_, plainText_, statusText_,
    isRowDone_, ensureOutputColumns_, phoneNumbers_, phoneStatusText_, QUEUED_STATUS_TEXT};
}
