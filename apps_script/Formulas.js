/**
 * Formulas: =PRONTO_EMAIL, =PRONTO_PHONE, =PRONTO_PERSONAL_EMAIL and =PRONTO_ENRICH.
 *
 * Each takes single cells or whole column ranges; a range becomes one POST /enrich call
 * per set of types to ask (more only past 1,000 contacts), answers in the same shape,
 * and is cached so that recalculation is free. A custom function must answer within 30
 * seconds: the function is asked to answer by about 20 s; cells it has not finished are
 * recorded and fill themselves once Pronto answers (Pending.js).
 *
 * A cell only ever holds a value Pronto returned, so that "Freeze formulas to values"
 * can never turn a sentence into data (and the sidebar then sees the row as done):
 * - a single cell without an answer (the row lacks a name, phones need a LinkedIn URL,
 *   still searching, failed, over budget, personal emails paused) throws an error whose
 *   text is the sentence: Sheets shows #ERROR! and the sentence on hover, and Freeze
 *   leaves such a cell empty;
 * - a range cannot hold an error per cell (a custom function returns values only), so a
 *   row without an answer is an empty cell there; PRONTO_ENRICH, which has status
 *   columns, says why in them (the sidebar's own cells: "pending: Still searching…"),
 *   and Freeze empties those status cells too, so the row counts as to do; when no row
 *   of a range got an answer for one account-level reason (a rejected key, the budget
 *   spent, personal emails paused), the whole formula shows that sentence as its error.
 */

/**
 * Seconds the function may take before answering pending. A custom function is killed at
 * 30 s (guides/sheets/functions): 20 s for the function, plus the call's own time, the
 * cache and the pending record, ends well inside it. No lock is taken in a formula, so
 * no lock wait adds to it.
 */
const FORMULA_TIMEOUT_S = 20;
/**
 * Milliseconds after the start of a formula past which no new call starts; a call started
 * earlier is told the seconds left minus one (Lookup.js), so the formula returns by about
 * 24 s, under 28 s with a margin for the work after the last answer.
 */
const FORMULA_BUDGET_MS = 24000;
/**
 * Finds the work email of a contact with Pronto's waterfall enrichment.
 *
 * @param {string|Array<Array<string>>} first First name, or a column of first names.
 * @param {string|Array<Array<string>>} last Last name, or a column of last names.
 * @param {string|Array<Array<string>>} company_or_domain Company name or website.
 * @param {string|Array<Array<string>>} [linkedin] LinkedIn profile URL (optional).
 * @param {string} [refresh] Leave it out: Pronto writes it ("refresh 1") to show answers
 *     that arrived after the formula stopped waiting.
 * @return {string|Array<Array<string>>} The email, or empty when none was found.
 * @customfunction
 */
function PRONTO_EMAIL(first, last, company_or_domain, linkedin, refresh) {
  return typeFormula_('PRONTO_EMAIL', 'email', [first, last, company_or_domain, linkedin]);
}

/**
 * Finds the phone numbers of a contact with Pronto's waterfall enrichment (Pronto
 * needs the contact's LinkedIn profile URL for phones).
 *
 * @param {string|Array<Array<string>>} first First name, or a column of first names.
 * @param {string|Array<Array<string>>} last Last name, or a column of last names.
 * @param {string|Array<Array<string>>} company_or_domain Company name or website.
 * @param {string|Array<Array<string>>} linkedin LinkedIn profile URL (needed for phones).
 * @param {string} [refresh] Leave it out: Pronto writes it ("refresh 1") to show answers
 *     that arrived after the formula stopped waiting.
 * @return {string|Array<Array<string>>} The phone numbers (comma-separated), or empty when none was found.
 * @customfunction
 */
function PRONTO_PHONE(first, last, company_or_domain, linkedin, refresh) {
  return typeFormula_('PRONTO_PHONE', 'phone', [first, last, company_or_domain, linkedin]);
}

/**
 * Finds the personal email of a contact with Pronto's waterfall enrichment (Pronto
 * needs the contact's LinkedIn profile URL, and the account's consent in its settings).
 *
 * @param {string|Array<Array<string>>} first First name, or a column of first names.
 * @param {string|Array<Array<string>>} last Last name, or a column of last names.
 * @param {string|Array<Array<string>>} company_or_domain Company name or website.
 * @param {string|Array<Array<string>>} linkedin LinkedIn profile URL (needed for personal emails).
 * @param {string} [refresh] Leave it out: Pronto writes it ("refresh 1") to show answers
 *     that arrived after the formula stopped waiting.
 * @return {string|Array<Array<string>>} The personal email, or empty when none was found.
 * @customfunction
 */
function PRONTO_PERSONAL_EMAIL(first, last, company_or_domain, linkedin, refresh) {
  return typeFormula_('PRONTO_PERSONAL_EMAIL', 'personal_email',
      [first, last, company_or_domain, linkedin]);
}

/**
 * Finds several things about a contact: one row per contact with, for each type asked,
 * its value and status, then the Pronto status (the cells Enrich rows writes).
 *
 * @param {string|Array<Array<string>>} first First name, or a column of first names.
 * @param {string|Array<Array<string>>} last Last name, or a column of last names.
 * @param {string|Array<Array<string>>} company_or_domain Company name or website.
 * @param {string|Array<Array<string>>} [linkedin] LinkedIn profile URL (needed for phones and personal emails).
 * @param {string} [types] "email", "phone", "personal_email" or several, like "email,phone" (the default).
 * @param {string} [refresh] Leave it out: Pronto writes it ("refresh 1") to show answers
 *     that arrived after the formula stopped waiting.
 * @return {Array<Array<string>>} Rows of [email, email status, phone, phone status, …, Pronto status].
 * @customfunction
 */
function PRONTO_ENRICH(first, last, company_or_domain, linkedin, types, refresh) {
  const ask = formulaAsk_('PRONTO_ENRICH', [first, last, company_or_domain, linkedin, types]);
  const wanted = ask.types;
  const fields = enrichColumns_(wanted);
  const answer = runFormula_(ask.contactArgs, wanted);
  if (answer.grid.columns > 1) {
    throw new Error('PRONTO_ENRICH takes one column per argument: give it ranges like A2:A100.');
  }
  return answer.results.map(function(row) {
    const result = row[0];
    const cells = result ? outputCells_(result) : {};
    return fields.map(function(field) {
      return cells[field] || '';
    });
  });
}

/**
 * A formula answering one type: its value in each cell (see the file's comment for
 * cells without an answer).
 * @param {string} name The formula's name, for messages.
 * @param {string} type The enrichment type.
 * @param {Array<*>} args first, last, company_or_domain, linkedin.
 * @return {*} A value for a single cell, otherwise a 2-D array.
 */
function typeFormula_(name, type, args) {
  const info = typeInfo_(type);
  if (info.needs_linkedin && args[3] === undefined) {
    throw new Error(name + ' needs the LinkedIn profile URL as its fourth argument: Pronto looks ' +
        'up ' + info.label.toLowerCase() + 's only with one, for example =' + name +
        '(A2, B2, C2, D2).');
  }
  const answer = runFormula_(args, [type]);
  if (answer.grid.single) {
    const result = answer.results[0][0];
    if (!result) {
      return '';
    }
    const typeResult = result.types[type];
    if (!isAnswer_(typeResult.status)) {
      throw new Error(formulaSentence_(typeResult));
    }
    return typeValue_(type, typeResult);
  }
  return answer.results.map(function(row) {
    return row.map(function(result) {
      return result ? typeValue_(type, result.types[type]) : '';
    });
  });
}

/**
 * What a cell without an answer says, as its error.
 * @param {TypeResult} result The type's result.
 * @return {string} The sentence.
 */
function formulaSentence_(result) {
  if (result.status === 'failed' || result.status === 'over_budget') {
    return describeRowFailure_(result);
  }
  return asSentence_(result.message) || String(VOCABULARY.statuses[result.status].meaning);
}

/**
 * Runs one formula: builds the contacts, looks up the types each may be asked within
 * the 30-second limit, records cells still searched, and gives each cell its row's
 * result (null for a blank cell).
 * @param {Array<*>} args first, last, company_or_domain, linkedin.
 * @param {Array<string>} types The enrichment types.
 * @return {{grid: {rows: number, columns: number, single: boolean}, results: Array<Array<?RowResult>>}}
 *     The results in the shape of the input.
 */
function runFormula_(args, types) {
  const started = Date.now();
  const grid = formulaGrid_(args, FORMULA_ARGUMENTS);
  const entries = formulaEntries_(grid);
  /** @type {Array<{entry: ContactEntry, types: Array<string>}>} */
  const cells = [];
  entries.forEach(function(rowEntries) {
    rowEntries.forEach(function(entry) {
      cells.push({entry: entry, types: types});
    });
  });
  const items = lookupItems_(cells);
  const lookup = lookupTypes_(items, {
    priority: 'interactive',
    timeoutS: FORMULA_TIMEOUT_S,
    deadline: started + FORMULA_BUDGET_MS,
    auth: 'token',
  });
  notePendingCell_(items.some(function(item) {
    return item.types.some(function(type) {
      return lookup.results[item.key][type].status === 'pending';
    });
  }));
  failIfNothingWorked_(lookup.results);
  return {
    grid: grid,
    results: entries.map(function(rowEntries) {
      return rowEntries.map(function(entry) {
        return entry.blank ? null : rowResult_(entry, types, lookup.results);
      });
    }),
  };
}

/**
 * Throws the function's explanation when every lookup that got an answer failed for a
 * reason of the account (a rejected Pronto key, the budget spent, personal emails
 * paused): one error says it better than hundreds of empty cells.
 * @param {Object<string, Object<string, TypeResult>>} results Results by identity and type.
 */
function failIfNothingWorked_(results) {
  /** @type {Array<TypeResult>} */
  const answered = [];
  Object.keys(results).forEach(function(key) {
    Object.keys(results[key]).forEach(function(type) {
      if (results[key][type].status !== 'pending') {
        answered.push(results[key][type]);
      }
    });
  });
  const failures = answered.filter(function(result) {
    return ['failed', 'over_budget', 'paused'].indexOf(result.status) !== -1;
  });
  if (answered.length && failures.length === answered.length) {
    throw new Error(formulaSentence_(failures[0]));
  }
}
