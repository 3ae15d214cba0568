/**
 * Rows: reading contacts from a sheet's rows and writing results back, each on its own
 * row, as plain values (never formulas), into the output columns of the types asked
 * (Email, Email status; Phone, Phone status; Personal email, Personal email status) and
 * Pronto status. Used by the sidebar and by the scheduled refresh.
 *
 * Done is per type (Results.js): each row is asked only the requested types it is not
 * done for, so adding phones to a sheet of emails buys no email again and overwrites
 * nothing. A type a row cannot be asked (phone or personal email without a LinkedIn URL)
 * is not sent: its status cell says what to add, and the row's other types still go.
 */

/** What Pronto status says of a row handed to the function's own fill (POST /fill), until the fill writes it. */
const QUEUED_STATUS_TEXT = 'pending: queued for the Pronto function';
/** The input fields of the sidebar's mapping, with the names older versions saved them under. */
const LEGACY_MAPPING_KEYS = {first: 'firstname', last: 'lastname', full: 'full_name',
  company: 'company_name', domain: 'domain', linkedin: 'linkedin_url'};

/**
 * The input columns the sidebar shows and the person may change: every input field,
 * -1 for those without a column.
 * @typedef {Object<string, number>} ColumnMapping
 */

/**
 * A sheet whose header row and columns are known.
 * @typedef {Object} SheetTable
 * @property {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @property {number} headerRow The 1-based header row.
 * @property {Array<string>} headers The header texts.
 * @property {ColumnMapping} mapping Input columns, every input field (-1 when absent).
 * @property {Object<string, number>} inputs The input columns present.
 * @property {Object<string, number>} outputs The output columns present.
 * @property {string} problem What columns are missing, in a sentence ('' when none).
 */

/**
 * One data row as read.
 * @typedef {Object} RowState
 * @property {number} row The 1-based row number.
 * @property {ContactEntry} entry Its contact.
 * @property {Array<string>} todo The requested types it is not done for.
 */

/**
 * What the sidebar shows before anything is spent.
 * @typedef {Object} Estimate
 * @property {number} rows Non-blank rows.
 * @property {number} toEnrich Distinct contacts that will be looked up.
 * @property {number} filled Rows done for every type asked.
 * @property {number} duplicates Rows repeating a contact counted above.
 * @property {number} invalid Rows missing a name or a company, domain or LinkedIn.
 * @property {number} needsLinkedin Rows with a type that needs a LinkedIn URL they lack.
 * @property {number} credits Credits spent at most (if everything is found).
 */

/**
 * What enriching some rows did.
 * @typedef {Object} RowsSummary
 * @property {number} rows Non-blank rows looked at.
 * @property {number} enriched Rows that got an answer now (found or not).
 * @property {number} found Rows with something found now.
 * @property {number} notFound Rows Pronto found nothing for.
 * @property {number} filled Rows skipped because they were done for every type asked.
 * @property {number} duplicates Rows sharing a contact with another row looked up now.
 * @property {number} invalid Rows missing details.
 * @property {number} needsLinkedin Rows with a type not asked for lack of a LinkedIn URL.
 * @property {number} paused Rows whose personal email waits for the account's consent.
 * @property {number} pending Rows still being searched.
 * @property {number} failed Rows whose lookup failed.
 * @property {number} overBudget Rows stopped by the credit budget.
 * @property {number} changed Rows edited or moved meanwhile, left for the next run.
 * @property {number} calls POST /enrich calls made.
 * @property {number} cacheHits Contacts answered from the cache.
 * @property {Array<number>} pendingRows The rows still being searched.
 * @property {?number} creditsSpentToday The function's count after this chunk.
 * @property {?number} creditBudget The function's daily budget.
 * @property {Object<string, string>} notices Account-level notices by code.
 * @property {string} stop A sentence when the run should stop (a rejected key), else ''.
 */

/**
 * Finds the header row and the columns of a sheet.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {?ColumnMapping} [picked] Input columns chosen by the person.
 * @param {boolean} [allowIncomplete] Return the table even when columns are
 *     missing (with the sentence in `problem`) so the sidebar can offer to pick them.
 * @return {SheetTable} The table.
 */
function openTable_(sheet, picked, allowIncomplete) {
  const lastRow = sheet.getLastRow();
  const lastColumn = sheet.getLastColumn();
  if (lastRow === 0 || lastColumn === 0) {
    throw new Error('The sheet "' + sheet.getName() + '" is empty: add a header row (First ' +
        'name, Last name, Company) and one contact per row below it.');
  }
  const top = sheet.getRange(1, 1, Math.min(VOCABULARY.header_scan_rows, lastRow), lastColumn)
      .getValues();
  const detection = detectColumns_(top);
  const headerIndex = Math.max(detection.headerRow, 0);
  const headers = top[headerIndex].map(cellText_);
  const mapping = picked ? checkedMapping_(picked, headers.length) :
    fullMapping_(detection.map ? detection.map.inputs : {});
  const inputs = presentColumns_(mapping);
  let problem = picked || !detection.map ? mappingProblem_(inputs) : '';
  if (problem) {
    const found = headers.filter(Boolean).map(function(header) {
      return '"' + header + '"';
    }).join(', ') || 'none';
    problem = 'Pronto needs ' + problem + ' in "' + sheet.getName() + '". Headers found: ' +
        found + '. Expected headers such as First name, Last name, Full name, Company, ' +
        'Website or LinkedIn (in English, French, Spanish or German): rename the columns, ' +
        'or pick them in the sidebar.';
    if (!allowIncomplete) {
      throw new Error(problem);
    }
  }
  return {
    sheet: sheet,
    headerRow: headerIndex + 1,
    headers: headers,
    mapping: mapping,
    inputs: inputs,
    outputs: findOutputColumns_(headers),
    problem: problem,
  };
}

/**
 * Every input field with its column, -1 for those without one.
 * @param {Object<string, number>} inputs The input columns found.
 * @return {ColumnMapping} The mapping.
 */
function fullMapping_(inputs) {
  /** @type {ColumnMapping} */
  const mapping = {};
  VOCABULARY.input_fields.forEach(function(/** @type {string} */ field) {
    mapping[field] = field in inputs ? inputs[field] : -1;
  });
  return mapping;
}

/**
 * The columns of a mapping that exist.
 * @param {ColumnMapping} mapping The mapping.
 * @return {Object<string, number>} The input columns present.
 */
function presentColumns_(mapping) {
  /** @type {Object<string, number>} */
  const inputs = {};
  Object.keys(mapping).forEach(function(field) {
    if (mapping[field] !== -1) {
      inputs[field] = mapping[field];
    }
  });
  return inputs;
}

/**
 * What a mapping lacks to build contacts: a first and last name (or a full name), and
 * a company, website or LinkedIn column.
 * @param {Object<string, number>} inputs The input columns present.
 * @return {string} '' when usable, otherwise what is missing, in words.
 */
function mappingProblem_(inputs) {
  const missing = [];
  if (!('firstname' in inputs && 'lastname' in inputs) && !(FULL_NAME_FIELD in inputs)) {
    missing.push('a first name and a last name column (or a full name column)');
  }
  if (!VOCABULARY.header_anchors.some(function(/** @type {string} */ anchor) {
    return anchor in inputs;
  })) {
    missing.push('a company, website or LinkedIn column');
  }
  return missing.join(' and ');
}

/**
 * Validates a mapping sent back by the sidebar (or saved by an older version, under
 * first/last/full/company/domain/linkedin).
 * @param {*} mapping The mapping.
 * @param {number} width The number of columns.
 * @return {ColumnMapping} A clean mapping.
 */
function checkedMapping_(mapping, width) {
  /** @type {Object<string, *>} */
  const given = {};
  Object.keys(mapping || {}).forEach(function(key) {
    given[/** @type {*} */ (LEGACY_MAPPING_KEYS)[key] || key] = mapping[key];
  });
  /** @type {ColumnMapping} */
  const clean = {};
  VOCABULARY.input_fields.forEach(function(/** @type {string} */ field) {
    const index = Number(given[field]);
    clean[field] = Number.isInteger(index) && index >= 0 && index < width ? index : -1;
  });
  return clean;
}

/**
 * Reads rows firstRow..lastRow of a table, with the types each still needs.
 * @param {SheetTable} table The table.
 * @param {number} firstRow The first 1-based row (below the header).
 * @param {number} lastRow The last 1-based row.
 * @param {Array<string>} types The types requested.
 * @return {Array<RowState>} One state per row, in order.
 */
function readRows_(table, firstRow, lastRow, types) {
  if (lastRow < firstRow) {
    return [];
  }
  const width = Math.max(table.sheet.getLastColumn(), 1);
  const values = table.sheet.getRange(firstRow, 1, lastRow - firstRow + 1, width).getValues();
  return values.map(function(rowValues, offset) {
    return {
      row: firstRow + offset,
      entry: rowContact_(table.inputs, rowValues),
      todo: typesToDo_(table.outputs, rowValues, types),
    };
  });
}

/**
 * Counts what enriching these rows would do, before anything is spent: each contact is
 * paid once, for the types any of its rows still needs and may be asked.
 * @param {Array<RowState>} rows The rows.
 * @param {Array<string>} types The enrichment types (unused: each row's todo says).
 * @param {Object<string, number>} credits Credits per answer found, by type.
 * @return {Estimate} The estimate.
 */
function estimateRows_(rows, types, credits) {
  /** @type {Object<string, Array<string>>} */
  const wanted = {};
  /** @type {Estimate} */
  const estimate = {rows: 0, toEnrich: 0, filled: 0, duplicates: 0, invalid: 0, needsLinkedin: 0,
    credits: 0};
  rows.forEach(function(state) {
    if (state.entry.blank) {
      return;
    }
    estimate.rows++;
    if (!state.todo.length) {
      estimate.filled++;
      return;
    }
    if (!state.entry.valid) {
      estimate.invalid++;
      return;
    }
    const askable = state.todo.filter(function(type) {
      return canAsk_(state.entry.contact, type);
    });
    if (askable.length < state.todo.length) {
      estimate.needsLinkedin++;
    }
    if (!askable.length) {
      return;
    }
    if (wanted[state.entry.key]) {
      estimate.duplicates++;
    } else {
      estimate.toEnrich++;
      wanted[state.entry.key] = [];
    }
    askable.forEach(function(type) {
      if (wanted[state.entry.key].indexOf(type) === -1) {
        wanted[state.entry.key].push(type);
      }
    });
  });
  Object.keys(wanted).forEach(function(key) {
    wanted[key].forEach(function(type) {
      estimate.credits += credits[type] || 0;
    });
  });
  return estimate;
}

/**
 * Adds the output columns a run of these types writes and the header row lacks (those
 * of the types asked, and Pronto status), after the last used column.
 * @param {SheetTable} table The table (its outputs are updated).
 * @param {Array<string>} types The types asked.
 */
function ensureOutputColumns_(table, types) {
  const sheet = table.sheet;
  const missing = VOCABULARY.output_columns.filter(function(/** @type {*} */ column) {
    return (column.type === null || types.indexOf(column.type) !== -1) &&
        !(column.field in table.outputs);
  });
  if (!missing.length) {
    return;
  }
  const lastColumn = Math.max(sheet.getLastColumn(), table.headers.length);
  const needed = lastColumn + missing.length;
  if (sheet.getMaxColumns() < needed) {
    sheet.insertColumnsAfter(sheet.getMaxColumns(), needed - sheet.getMaxColumns());
  }
  const headers = missing.map(function(/** @type {*} */ column) {
    return String(column.header);
  });
  sheet.getRange(table.headerRow, lastColumn + 1, 1, missing.length).setValues([headers]);
  missing.forEach(function(/** @type {*} */ column, /** @type {number} */ offset) {
    table.outputs[column.field] = lastColumn + offset;
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
 * Writes output cells, row by row, as plain values: one setValues per run of
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
    return table.outputs[a] - table.outputs[b];
  });
  /** @type {Array<Array<string>>} */
  const blocks = [];
  fields.forEach(function(field) {
    const column = table.outputs[field];
    const last = blocks[blocks.length - 1];
    const lastColumn = last ? table.outputs[last[last.length - 1]] : -2;
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
      const column = table.outputs[block[0]];
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
 * Enriches the rows firstRow..lastRow for the requested types each is not done for,
 * and writes each result on its own row. Rows edited or moved while Pronto was
 * searching are left alone (never a result on the wrong row).
 * @param {SheetTable} table The table.
 * @param {number} firstRow The first 1-based row.
 * @param {number} lastRow The last 1-based row.
 * @param {Array<string>} types The enrichment types.
 * @param {{priority: string, timeoutS: number, onlyRows?: Array<number>}} options
 *     How to ask; onlyRows: look at these rows only (the others are not counted).
 * @return {RowsSummary} What was done.
 */
function enrichRows_(table, firstRow, lastRow, types, options) {
  // Every count (Counts.js) at zero, and what a chunk adds to them.
  const counts = /** @type {*} */ (emptyCounts_());
  /** @type {RowsSummary} */
  const summary = Object.assign(counts, {rows: 0, enriched: 0, calls: 0, cacheHits: 0,
    pendingRows: [], creditsSpentToday: null, creditBudget: null, notices: {}, stop: ''});
  const targets = rowsToDo_(readRows_(table, firstRow, lastRow, types), summary, options.onlyRows);
  if (!targets.length) {
    return summary;
  }
  const items = lookupItems_(targets.map(function(state) {
    return {entry: state.entry, types: state.todo};
  }));
  /** @type {Object<string, boolean>} */
  const seen = {};
  items.forEach(function(item) {
    summary.duplicates += seen[item.key] ? 1 : 0;
    seen[item.key] = true;
  });
  const lookup = lookupTypes_(items, {priority: options.priority, timeoutS: options.timeoutS,
    auth: 'auto'});
  summary.calls = lookup.stats.calls;
  summary.cacheHits = lookup.stats.cacheHits;
  summary.notices = lookup.notices;
  if (lookup.stats.serverStats) {
    summary.creditsSpentToday = lookup.stats.serverStats.credits_spent_today;
    summary.creditBudget = lookup.stats.serverStats.credit_budget;
  }
  const failures = withDocumentLock_(30000, function() {
    return writeResults_(table, firstRow, lastRow, types, targets, lookup, summary);
  });
  summary.stop = stopSentence_(summary, failures);
  return summary;
}

/**
 * The rows that need a lookup, counting the others (blank rows are not counted).
 * @param {Array<RowState>} rows The rows read.
 * @param {RowsSummary} summary The counts (changed in place).
 * @param {Array<number>} [onlyRows] Look at these rows only.
 * @return {Array<RowState>} The rows with a type still to do.
 */
function rowsToDo_(rows, summary, onlyRows) {
  return rows.filter(function(state) {
    if (state.entry.blank || (onlyRows && onlyRows.indexOf(state.row) === -1)) {
      return false;
    }
    summary.rows++;
    summary.filled += state.todo.length ? 0 : 1;
    return state.todo.length > 0;
  });
}

/**
 * Writes each row's result on its own row, under the document lock, leaving alone rows
 * edited or moved while Pronto was searching (never a result on the wrong row).
 * @param {SheetTable} table The table.
 * @param {number} firstRow The first row read.
 * @param {number} lastRow The last row read.
 * @param {Array<string>} types The types asked.
 * @param {Array<RowState>} targets The rows looked up, as they were read.
 * @param {LookupAnswer} lookup What the lookup found.
 * @param {RowsSummary} summary The counts (changed in place).
 * @return {Array<RowResult>} The results that failed or went over budget.
 */
function writeResults_(table, firstRow, lastRow, types, targets, lookup, summary) {
  /** @type {Array<RowResult>} */
  const failures = [];
  ensureOutputColumns_(table, types);
  const current = readRows_(table, firstRow, lastRow, types);
  /** @type {Array<{row: number, values: Object<string, string>}>} */
  const writes = [];
  targets.forEach(function(state) {
    const now = current[state.row - firstRow];
    if (!now || now.entry.key !== state.entry.key ||
        now.entry.invalidReason !== state.entry.invalidReason ||
        now.todo.join() !== state.todo.join()) {
      summary.changed++;
      return;
    }
    const result = rowResult_(state.entry, state.todo, lookup.results);
    countResult_(summary, state.entry, result);
    if (result.status === 'pending') {
      summary.pendingRows.push(state.row);
    }
    if (result.status === 'failed' || result.status === 'over_budget') {
      failures.push(result);
    }
    writes.push({row: state.row, values: outputCells_(result)});
  });
  writeOutputs_(table, writes);
  SpreadsheetApp.flush();
  return failures;
}

/**
 * When no row got an answer and some failed for good, the sentence that stops the run.
 * @param {RowsSummary} summary The counts.
 * @param {Array<RowResult>} failures The results that failed or went over budget.
 * @return {string} The sentence ('' when the run goes on).
 */
function stopSentence_(summary, failures) {
  const answered = summary.enriched + summary.failed + summary.overBudget;
  if (!answered || summary.enriched) {
    return '';
  }
  const failure = failures.filter(function(result) {
    return result.status === 'over_budget' || Object.keys(result.types).some(function(type) {
      return result.types[type].status === 'failed';
    });
  })[0];
  return failure ? describeRowFailure_(failure) : '';
}

/**
 * Adds one row's result to the counts: by the row's status, except that a row Pronto
 * could not be asked only for lack of a LinkedIn URL counts as needing one, and a row
 * whose only failure is personal emails waiting for consent counts as paused.
 * @param {RowsSummary} summary The counts.
 * @param {ContactEntry} entry The row's contact.
 * @param {RowResult} result The row's result.
 */
function countResult_(summary, entry, result) {
  const statuses = Object.keys(result.types).map(function(type) {
    return result.types[type].status;
  });
  const needsLinkedin = statuses.indexOf('needs_linkedin') !== -1;
  if (needsLinkedin) {
    summary.needsLinkedin++;
  }
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
      if (!entry.valid || !needsLinkedin) {
        summary.invalid++;
      }
      break;
    case 'pending':
      summary.pending++;
      break;
    case 'over_budget':
      summary.overBudget++;
      break;
    default:
      if (statuses.indexOf('failed') === -1 && statuses.indexOf('paused') !== -1) {
        summary.paused++;
      } else {
        summary.failed++;
      }
  }
}
