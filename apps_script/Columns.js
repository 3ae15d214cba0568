/**
 * Columns: which column of a sheet holds what, and the output columns results go to,
 * from the one vocabulary (VOCABULARY, generated from function/pronto_sheets/vocabulary.json).
 *
 * Header detection takes the function's steps (function/pronto_sheets/sheets/columns.py):
 * headers are folded (case, accents, spaces and punctuation away: "Prénom", "PRENOM" and
 * "pré-nom" are all "prenom") and matched against the synonyms in English, French,
 * Spanish and German; the header row is the first of the top rows that names the people
 * (first and last name, or a full name) and one way to find them (company, website or
 * LinkedIn); left to right, the first column of a field wins; an explicit mapping (a
 * header text or a column letter per field) overrides detection.
 */

/**
 * Where a sheet keeps its inputs and outputs; columns are 0-based indexes, by the
 * vocabulary's field names (firstname, lastname, full_name, company_name, domain,
 * linkedin_url; email, email_status, …, pronto_status).
 * @typedef {Object} ColumnMap
 * @property {number} headerRow The 0-based index of the header row in the rows read.
 * @property {Array<string>} headers The header row's texts.
 * @property {Object<string, number>} inputs The input columns found.
 * @property {Object<string, number>} outputs The output columns the sheet already has.
 */

/**
 * What detecting the columns of some rows gave.
 * @typedef {Object} Detection
 * @property {?ColumnMap} map The column map, or null when the rows cannot be mapped.
 * @property {number} headerRow The header row found, or the row that came closest (-1: none).
 * @property {Array<string>} missing What is missing, in words (empty when mapped).
 * @property {Array<string>} headers The texts of that row.
 */

/** The full name: the input field split into first and last name. */
const FULL_NAME_FIELD = 'full_name';
/** The output field of the row's status. */
const PRONTO_STATUS_FIELD = 'pronto_status';

/**
 * Folds a header for matching (vocabulary.py fold_header).
 * @param {*} header The header cell.
 * @return {string} e.g. "Prénom " → "prenom", "Company Website" → "companywebsite".
 */
function foldHeader_(header) {
  return foldText_(String(header || '')).replace(/ /g, '').replace(/[^a-z0-9]+/g, '');
}

/**
 * Folded header texts to the field each names, from the vocabulary's synonyms.
 * @return {Object<string, string>} e.g. {prenom: 'firstname', courriel: 'email', …}.
 */
function headerFields_() {
  /** @type {Object<string, string>} */
  const fields = {};
  Object.keys(VOCABULARY.header_synonyms).forEach(function(field) {
    VOCABULARY.header_synonyms[field].forEach(function(/** @type {string} */ synonym) {
      fields[foldHeader_(synonym)] = field;
    });
  });
  return fields;
}

/**
 * Whether a field is one of the inputs (a name, company, website or LinkedIn).
 * @param {string} field The field.
 * @return {boolean} True for an input.
 */
function isInputField_(field) {
  return VOCABULARY.input_fields.indexOf(field) !== -1;
}

/**
 * A cell of a row as text ('' past the row's end or for an absent column).
 * @param {Array<*>} row The row's values.
 * @param {number|undefined} index A 0-based column, or undefined.
 * @return {string} The text.
 */
function rowCell_(row, index) {
  if (index === undefined || index === null || index < 0 || index >= row.length) {
    return '';
  }
  return cellText_(row[index]);
}

/**
 * Where one override ("firstname": "Given" or "C") points.
 * @param {string} key The override's key (a field, or one of its other names).
 * @param {*} value A header text or a column letter.
 * @param {Array<string>} headers The row's texts.
 * @return {{field: string, column: number, namedHere: boolean}} The field, its column (-1
 *     when not found), and whether it named a header of this row (a column letter says
 *     nothing about which row is the header row).
 */
function overrideTarget_(key, value, headers) {
  const keys = VOCABULARY.column_override_keys;
  const field = keys[String(key).trim().toLowerCase()];
  if (!field) {
    throw new Error('Unknown column "' + key + '": use some of ' + Object.keys(keys).sort()
        .join(', ') + '.');
  }
  if (typeof value !== 'string' || !value.trim()) {
    throw new Error('The column for ' + key + ' must be a header text or a column letter such as "C".');
  }
  const wanted = foldHeader_(value);
  for (let index = 0; index < headers.length; index++) {
    if (wanted && foldHeader_(headers[index]) === wanted) {
      return {field: field, column: index, namedHere: true};
    }
  }
  if (/^[A-Za-z]{1,3}$/.test(value.trim())) {
    return {field: field, column: columnNumber_(value.trim()) - 1, namedHere: false};
  }
  return {field: field, column: -1, namedHere: false};
}

/**
 * The map one row gives as a header row, how many headers it recognised, and what it lacks.
 * @param {number} rowIndex The row's 0-based index.
 * @param {Array<*>} row The row's values.
 * @param {Object<string, *>} overrides Explicit columns.
 * @param {Object<string, string>} known Folded headers to fields.
 * @return {{map: ColumnMap, recognised: number, missing: Array<string>}} The candidate.
 */
function headerCandidate_(rowIndex, row, overrides, known) {
  const headers = row.map(function(unused, index) {
    return rowCell_(row, index);
  });
  /** @type {Object<string, number>} */
  const inputs = {};
  /** @type {Object<string, number>} */
  const outputs = {};
  let recognised = 0;
  headers.forEach(function(header, index) {
    const field = header ? known[foldHeader_(header)] : undefined;
    if (!field) {
      return;
    }
    const target = isInputField_(field) ? inputs : outputs;
    if (!(field in target)) {
      target[field] = index;
    }
    recognised++;
  });
  /** @type {Array<string>} */
  const notFound = [];
  Object.keys(overrides).forEach(function(key) {
    const target = overrideTarget_(key, overrides[key], headers);
    if (target.column === -1) {
      notFound.push('the column "' + overrides[key] + '" (for ' + key + ')');
      return;
    }
    if (target.namedHere) {
      recognised++;
    }
    (isInputField_(target.field) ? inputs : outputs)[target.field] = target.column;
  });
  const missing = [];
  if (!('firstname' in inputs && 'lastname' in inputs) && !(FULL_NAME_FIELD in inputs)) {
    missing.push('a first name and a last name column (or a full name column)');
  }
  if (!VOCABULARY.header_anchors.some(function(/** @type {string} */ anchor) {
    return anchor in inputs;
  })) {
    missing.push('a company, website or LinkedIn column');
  }
  return {
    map: {headerRow: rowIndex, headers: headers, inputs: inputs, outputs: outputs},
    recognised: recognised,
    missing: missing.concat(notFound),
  };
}

/**
 * Detects the columns of a sheet from its top rows: the header row is `headerRow` when
 * given, else the first of them (VOCABULARY.header_scan_rows) that maps names and an
 * anchor and recognises one of its own headers (column letters fit any row, so they
 * cannot tell which row holds the headers); failing that, the first row column letters
 * complete.
 * @param {Array<Array<*>>} rows The sheet's values, row by row (the top ones suffice).
 * @param {Object<string, *>} [overrides] Explicit columns by field: a header text or a letter.
 * @param {number} [headerRow] The header row's 0-based index, when known.
 * @return {Detection} The map, or what came closest and what it lacks.
 */
function detectColumns_(rows, overrides, headerRow) {
  const known = headerFields_();
  const given = typeof headerRow === 'number' && headerRow >= 0;
  /** @type {?{recognised: number, missing: Array<string>, map: ColumnMap}} */
  let best = null;
  /** @type {?ColumnMap} */
  let completeByLetters = null;
  const indexes = given ? [headerRow] :
    rows.slice(0, VOCABULARY.header_scan_rows).map(function(unused, index) {
      return index;
    });
  for (let i = 0; i < indexes.length; i++) {
    const index = /** @type {number} */ (indexes[i]);
    const row = rows[index] || [];
    if (!given && !row.some(function(unused, column) {
      return Boolean(rowCell_(row, column));
    })) {
      continue;
    }
    const candidate = headerCandidate_(index, row, overrides || {}, known);
    if (!candidate.missing.length && (candidate.recognised || given)) {
      return {map: candidate.map, headerRow: index, missing: [], headers: candidate.map.headers};
    }
    if (!candidate.missing.length && completeByLetters === null) {
      completeByLetters = candidate.map;
    }
    if (best === null || candidate.recognised > best.recognised) {
      best = candidate;
    }
  }
  if (completeByLetters !== null) {
    return {map: completeByLetters, headerRow: completeByLetters.headerRow, missing: [],
      headers: completeByLetters.headers};
  }
  if (best === null) {
    return {map: null, headerRow: -1, missing: ['a header row'], headers: []};
  }
  return {map: null, headerRow: best.map.headerRow, missing: best.missing,
    headers: best.map.headers};
}

/**
 * The output columns a row of headers already has (Email, Courriel, Statut Pronto…).
 * @param {Array<*>} headers The header row's values.
 * @return {Object<string, number>} Output fields to 0-based columns.
 */
function findOutputColumns_(headers) {
  const known = headerFields_();
  /** @type {Object<string, number>} */
  const outputs = {};
  headers.forEach(function(header, index) {
    const text = cellText_(header);
    const field = text ? known[foldHeader_(text)] : undefined;
    if (field && !isInputField_(field) && !(field in outputs)) {
      outputs[field] = index;
    }
  });
  return outputs;
}

/**
 * First and last name from one cell: "Ada Lovelace", "Lovelace, Ada"; the first word
 * is the first name and the rest the last name; one word gives no last name.
 * @param {string} text The full name.
 * @return {{first: string, last: string}} The parts ('' when absent).
 */
function splitFullName_(text) {
  const full = squeezeSpaces_(String(text || ''));
  const comma = full.indexOf(',');
  if (comma !== -1) {
    return {first: squeezeSpaces_(full.slice(comma + 1)), last: squeezeSpaces_(full.slice(0, comma))};
  }
  const space = full.indexOf(' ');
  if (space === -1) {
    return {first: full, last: ''};
  }
  return {first: full.slice(0, space), last: squeezeSpaces_(full.slice(space + 1))};
}

/**
 * A row's inputs as contactFromFields_ takes them (a full name is split; with "First
 * name" and "Name" columns, the name column repeating the first name is understood).
 * @param {Object<string, number>} inputs The input columns.
 * @param {Array<*>} row The row's values.
 * @return {Object<string, string>} The fields as typed.
 */
function rowFields_(inputs, row) {
  /** @type {Object<string, string>} */
  const fields = {};
  VOCABULARY.input_fields.forEach(function(/** @type {string} */ field) {
    if (field !== FULL_NAME_FIELD) {
      fields[field] = rowCell_(row, inputs[field]);
    }
  });
  const full = rowCell_(row, inputs[FULL_NAME_FIELD]);
  if (full && !(fields.firstname && fields.lastname)) {
    const parts = splitFullName_(full);
    let last = parts.last;
    if (fields.firstname && full.toLowerCase().indexOf(fields.firstname.toLowerCase()) === 0) {
      last = squeezeSpaces_(full.slice(fields.firstname.length));
    } else if (fields.firstname) {
      last = full;
    }
    fields.firstname = fields.firstname || parts.first;
    fields.lastname = fields.lastname || last;
  }
  return fields;
}

/**
 * Whether every input cell of a row is empty (such rows are left alone).
 * @param {Object<string, number>} inputs The input columns.
 * @param {Array<*>} row The row's values.
 * @return {boolean} True when blank.
 */
function isBlankRow_(inputs, row) {
  return !Object.keys(inputs).some(function(field) {
    return Boolean(rowCell_(row, inputs[field]));
  });
}

/**
 * The contact of one row.
 * @param {Object<string, number>} inputs The input columns.
 * @param {Array<*>} row The row's values.
 * @return {ContactEntry} The entry.
 */
function rowContact_(inputs, row) {
  return contactEntry_(rowFields_(inputs, row), isBlankRow_(inputs, row));
}

/**
 * Turns a 0-based column index into its letters ("A", "Z", "AA").
 * @param {number} index The 0-based column index.
 * @return {string} The letters.
 */
function columnLetter_(index) {
  let letters = '';
  let n = index + 1;
  while (n > 0) {
    const rest = (n - 1) % 26;
    letters = String.fromCharCode(65 + rest) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/**
 * A column's 1-based number from its letters ("A" → 1, "AA" → 27).
 * @param {string} letters The letters.
 * @return {number} The number.
 */
function columnNumber_(letters) {
  return letters.toUpperCase().split('').reduce(function(total, letter) {
    return total * 26 + letter.charCodeAt(0) - 64;
  }, 0);
}
