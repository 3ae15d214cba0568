/**
 * Formulas: =PRONTO_EMAIL, =PRONTO_PHONE and =PRONTO_ENRICH.
 *
 * Each takes single cells or whole column ranges; a range becomes one POST
 * /enrich call (more only past 1,000 contacts), answers in the same shape, and
 * is cached so that recalculation is free. A custom function must answer within
 * 30 seconds: the function is asked to answer by about 25 s, and rows it has not
 * finished show "searching… recalculates later" instead of an error; the cell is
 * recorded and fills itself once Pronto answers (Pending.js).
 */

/** Seconds the function may take before answering pending. */
const FORMULA_TIMEOUT_S = 25;
/** Milliseconds after the start of a formula past which no new call starts. */
const FORMULA_BUDGET_MS = 27000;
/** What a cell shows while Pronto is still searching. */
const PENDING_TEXT = 'searching… recalculates later';
/** What a cell shows when this row failed but others did not. */
const FAILED_TEXT = 'lookup failed, retry later';
/** What a cell shows when the daily credit budget stopped this row. */
const OVER_BUDGET_TEXT = 'credit budget reached, retry tomorrow';

/**
 * Finds the work email of a contact with Pronto's waterfall enrichment.
 *
 * @param {string|Array<Array<string>>} first First name, or a column of first names.
 * @param {string|Array<Array<string>>} last Last name, or a column of last names.
 * @param {string|Array<Array<string>>} company_or_domain Company name or website (a value with a dot is a domain).
 * @param {string|Array<Array<string>>} [linkedin] LinkedIn profile URL (optional).
 * @return {string|Array<Array<string>>} The email, or empty when none was found.
 * @customfunction
 */
function PRONTO_EMAIL(first, last, company_or_domain, linkedin) {
  return runFormula_('PRONTO_EMAIL', [first, last, company_or_domain, linkedin], ['email'],
      function(result) {
        return [result.status === 'success' ? result.email || '' : ''];
      });
}

/**
 * Finds the phone number of a contact with Pronto's waterfall enrichment.
 *
 * @param {string|Array<Array<string>>} first First name, or a column of first names.
 * @param {string|Array<Array<string>>} last Last name, or a column of last names.
 * @param {string|Array<Array<string>>} company_or_domain Company name or website (a value with a dot is a domain).
 * @param {string|Array<Array<string>>} [linkedin] LinkedIn profile URL (optional).
 * @return {string|Array<Array<string>>} The phone numbers (comma-separated), or empty when none was found.
 * @customfunction
 */
function PRONTO_PHONE(first, last, company_or_domain, linkedin) {
  return runFormula_('PRONTO_PHONE', [first, last, company_or_domain, linkedin], ['phone'],
      function(result) {
        return [result.status === 'success' ? phoneNumbers_(result) : ''];
      });
}

/**
 * Finds email and phone of a contact: one row of [email, email status, phone, phone status].
 *
 * @param {string|Array<Array<string>>} first First name, or a column of first names.
 * @param {string|Array<Array<string>>} last Last name, or a column of last names.
 * @param {string|Array<Array<string>>} company_or_domain Company name or website (a value with a dot is a domain).
 * @param {string|Array<Array<string>>} [linkedin] LinkedIn profile URL (optional).
 * @param {string} [types] "email", "phone" or "email,phone" (the default).
 * @return {Array<Array<string>>} Rows of [email, email status, phone, phone status].
 * @customfunction
 */
function PRONTO_ENRICH(first, last, company_or_domain, linkedin, types) {
  let profile = linkedin;
  let asked = types;
  if ((asked === undefined || asked === '') && typeof profile === 'string' &&
      profile.trim() && !looksLikeLinkedIn_(profile)) {
    // =PRONTO_ENRICH(A2, B2, C2, "phone"): the types given in place of the LinkedIn
    // argument. Anything there that is not a LinkedIn URL is read as types, so a typo
    // ("emial") is refused with a sentence instead of being sent as a profile.
    asked = profile;
    profile = undefined;
  }
  const wanted = parseTypes_(asked);
  return runFormula_('PRONTO_ENRICH', [first, last, company_or_domain, profile], wanted,
      function(result) {
        const email = result.status === 'success' ? result.email || '' : '';
        const phone = result.status === 'success' ? phoneNumbers_(result) : '';
        return [
          email,
          wanted.indexOf('email') === -1 ? '' : email ? result.email_status || '' : 'not_found',
          phone,
          wanted.indexOf('phone') === -1 ? '' : phone ? phoneStatusText_(result) : 'not_found',
        ];
      }, 4);
}

/**
 * Whether a value looks like a LinkedIn profile URL rather than a word.
 * @param {string} text The value.
 * @return {boolean} True for "https://www.linkedin.com/in/ada", "linkedin.com/in/ada", "/in/ada".
 */
function looksLikeLinkedIn_(text) {
  return /linkedin|\/in\/|\/pub\//i.test(text);
}

/**
 * Reads the types argument of PRONTO_ENRICH: type names (see ENRICHMENT_TYPES)
 * separated by commas, semicolons, "+" or spaces; "both" or "all" for every type.
 * @param {*} types e.g. "email", "phone", "email,phone", "both" or empty.
 * @return {Array<string>} The enrichment types.
 */
function parseTypes_(types) {
  const text = foldText_(cellText_(types));
  if (!text || text === 'both' || text === 'all') {
    return enrichmentTypeIds_();
  }
  /** @type {Array<string>} */
  const wanted = [];
  /** @type {Array<string>} */
  const unknown = [];
  text.split(/[\s,;+&]+/).filter(Boolean).forEach(function(word) {
    const type = ENRICHMENT_TYPES.filter(function(candidate) {
      return candidate.words.indexOf(word) !== -1;
    })[0];
    if (!type) {
      unknown.push(word);
    } else if (wanted.indexOf(type.id) === -1) {
      wanted.push(type.id);
    }
  });
  if (unknown.length || !wanted.length) {
    throw new Error('The types argument must be ' + enrichmentTypeIds_().map(function(id) {
      return '"' + id + '"';
    }).join(', ') + ' or several of them separated by commas, like "' +
        enrichmentTypeIds_().join(',') + '" (you gave "' + cellText_(types) + '").');
  }
  return enrichmentTypeIds_().filter(function(id) {
    return wanted.indexOf(id) !== -1;
  });
}

/**
 * Normalises the arguments of a formula into one grid: every range argument must
 * have the same size; a single value applies to every row.
 * @param {Array<*>} args The arguments as Sheets passes them (values or 2-D arrays).
 * @param {Array<string>} names The arguments' names, for messages.
 * @return {{rows: number, columns: number, single: boolean, value: function(number, number, number): *}} The grid.
 */
function formulaGrid_(args, names) {
  let rows = 1;
  let columns = 1;
  let shapeFrom = -1;
  args.forEach(function(arg, index) {
    if (!Array.isArray(arg) || (arg.length === 1 && arg[0].length === 1)) {
      return;
    }
    if (shapeFrom === -1) {
      rows = arg.length;
      columns = arg[0].length;
      shapeFrom = index;
    } else if (arg.length !== rows || arg[0].length !== columns) {
      throw new Error(names[shapeFrom] + ' has ' + rows + ' row(s) but ' + names[index] +
          ' has ' + arg.length + ': give every range the same number of rows.');
    }
  });
  return {
    rows: rows,
    columns: columns,
    single: shapeFrom === -1 && !args.some(Array.isArray),
    value: function(argIndex, row, column) {
      const arg = args[argIndex];
      if (!Array.isArray(arg)) {
        return arg;
      }
      if (arg.length === 1 && arg[0].length === 1) {
        return arg[0][0];
      }
      return arg[row][column];
    },
  };
}

/**
 * Runs one formula: builds the contacts, looks them up within the 30-second
 * limit and lays the answers out in the shape of the input.
 * @param {string} name The formula's name, for messages.
 * @param {Array<*>} args first, last, company_or_domain, linkedin.
 * @param {Array<string>} types The enrichment types.
 * @param {function(EnrichResult): Array<string>} render A found (or not found) result to cells.
 * @param {number} [width] Cells per answer (1, or 4 for PRONTO_ENRICH).
 * @return {*} A value for a single cell, otherwise a 2-D array.
 */
function runFormula_(name, args, types, render, width) {
  const started = Date.now();
  const cellsPerAnswer = width || 1;
  const grid = formulaGrid_(args, ['first', 'last', 'company_or_domain', 'linkedin']);
  if (cellsPerAnswer > 1 && grid.columns > 1) {
    throw new Error(name + ' takes one column per argument: give it ranges like A2:A100.');
  }
  /** @type {Array<Array<ContactEntry>>} */
  const entries = [];
  /** @type {Array<{key: string, contact: Contact}>} */
  const items = [];
  for (let row = 0; row < grid.rows; row++) {
    entries.push([]);
    for (let column = 0; column < grid.columns; column++) {
      const entry = buildContact_({
        first: grid.value(0, row, column),
        last: grid.value(1, row, column),
        companyOrDomain: grid.value(2, row, column),
        linkedin: grid.value(3, row, column),
      });
      entries[row].push(entry);
      if (entry.contact) {
        items.push({key: entry.key, contact: entry.contact});
      }
    }
  }
  const lookup = lookupContacts_(items, types, {
    priority: 'interactive',
    timeoutS: FORMULA_TIMEOUT_S,
    deadline: started + FORMULA_BUDGET_MS,
    auth: 'token',
  });
  /** @type {Object<string, boolean>} */
  const noted = {};
  notePendingCell_(types, items.filter(function(item) {
    const pending = lookup.results[item.key].status === 'pending' && !noted[item.key];
    noted[item.key] = true;
    return pending;
  }));
  failIfNothingWorked_(lookup.results);
  const blank = new Array(cellsPerAnswer).fill('');
  const output = entries.map(function(rowEntries) {
    /** @type {Array<string>} */
    let cells = [];
    rowEntries.forEach(function(entry) {
      cells = cells.concat(formulaCells_(entry, lookup.results, render, blank));
    });
    return cells;
  });
  if (grid.single && cellsPerAnswer === 1) {
    return output[0][0];
  }
  return output;
}

/**
 * The cells of one answer.
 * @param {ContactEntry} entry The contact of this cell.
 * @param {Object<string, EnrichResult>} results Results by key.
 * @param {function(EnrichResult): Array<string>} render Renders a success or not_found.
 * @param {Array<string>} blank The empty answer.
 * @return {Array<string>} The cells.
 */
function formulaCells_(entry, results, render, blank) {
  /**
   * @param {string} text The first cell.
   * @param {string} status The status cells.
   * @return {Array<string>} The cells.
   */
  function withText(text, status) {
    if (blank.length === 1) {
      return [text];
    }
    return [text, status, '', status];
  }
  if (entry.blank) {
    return blank.slice();
  }
  if (!entry.contact) {
    return withText(entry.invalidReason, 'invalid');
  }
  const result = results[entry.key];
  switch (result.status) {
    case 'success':
    case 'not_found':
      return render(result);
    case 'pending':
      return withText(PENDING_TEXT, 'pending');
    case 'over_budget':
      return withText(OVER_BUDGET_TEXT, 'over_budget');
    case 'invalid':
      return withText(result.message || 'missing details', 'invalid');
    default:
      return withText(FAILED_TEXT, 'failed');
  }
}

/**
 * Throws the function's explanation when every contact that got an answer
 * failed (a rejected Pronto key, the budget spent): one error says it better
 * than hundreds of cells.
 * @param {Object<string, EnrichResult>} results Results by key.
 */
function failIfNothingWorked_(results) {
  const answered = Object.keys(results).map(function(key) {
    return results[key];
  }).filter(function(result) {
    return result.status !== 'pending';
  });
  const failures = answered.filter(function(result) {
    return result.status === 'failed' || result.status === 'over_budget';
  });
  if (answered.length && failures.length === answered.length) {
    throw new Error(describeRowFailure_(failures[0]));
  }
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {PRONTO_EMAIL, PRONTO_PHONE, PRONTO_ENRICH, parseTypes_, formulaGrid_,
    looksLikeLinkedIn_, PENDING_TEXT};
}
