/**
 * Formulas: =PRONTO_EMAIL, =PRONTO_PHONE, =PRONTO_PERSONAL_EMAIL and =PRONTO_ENRICH.
 *
 * Each takes single cells or whole column ranges; a range becomes one POST /enrich call
 * per set of types to ask (more only past 1,000 contacts), answers in the same shape,
 * and is cached so that recalculation is free. A custom function must answer within 30
 * seconds: the function is asked to answer by about 25 s; cells it has not finished are
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

/** Seconds the function may take before answering pending. */
const FORMULA_TIMEOUT_S = 25;
/** Milliseconds after the start of a formula past which no new call starts. */
const FORMULA_BUDGET_MS = 27000;
/** The formulas' contact arguments, for messages. */
const FORMULA_ARGUMENTS = ['first', 'last', 'company_or_domain', 'linkedin'];
/** PRONTO_ENRICH's types when none are given (personal emails are asked by name). */
const DEFAULT_FORMULA_TYPES = ['email', 'phone'];

/**
 * Finds the work email of a contact with Pronto's waterfall enrichment.
 *
 * @param {string|Array<Array<string>>} first First name, or a column of first names.
 * @param {string|Array<Array<string>>} last Last name, or a column of last names.
 * @param {string|Array<Array<string>>} company_or_domain Company name or website.
 * @param {string|Array<Array<string>>} [linkedin] LinkedIn profile URL (optional).
 * @return {string|Array<Array<string>>} The email, or empty when none was found.
 * @customfunction
 */
function PRONTO_EMAIL(first, last, company_or_domain, linkedin) {
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
 * @return {string|Array<Array<string>>} The phone numbers (comma-separated), or empty when none was found.
 * @customfunction
 */
function PRONTO_PHONE(first, last, company_or_domain, linkedin) {
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
 * @return {string|Array<Array<string>>} The personal email, or empty when none was found.
 * @customfunction
 */
function PRONTO_PERSONAL_EMAIL(first, last, company_or_domain, linkedin) {
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
 * @return {Array<Array<string>>} Rows of [email, email status, phone, phone status, …, Pronto status].
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
  const fields = enrichColumns_(wanted);
  const answer = runFormula_([first, last, company_or_domain, profile], wanted);
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
 * The fields of PRONTO_ENRICH's columns for some types: each type's value and status,
 * then the Pronto status.
 * @param {Array<string>} types The types.
 * @return {Array<string>} The output fields, in order.
 */
function enrichColumns_(types) {
  /** @type {Array<string>} */
  const fields = [];
  enrichmentTypes_().forEach(function(type) {
    if (types.indexOf(type.name) !== -1) {
      fields.push(type.data_column, type.status_column);
    }
  });
  return fields.concat([PRONTO_STATUS_FIELD]);
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
 * Whether a value looks like a LinkedIn profile URL rather than a word.
 * @param {string} text The value.
 * @return {boolean} True for "https://www.linkedin.com/in/ada", "linkedin.com/in/ada", "/in/ada".
 */
function looksLikeLinkedIn_(text) {
  return /linkedin|\/in\/|\/pub\//i.test(text);
}

/**
 * The words a formula's types argument may use for each type: its name, its label and
 * its column's header synonyms, folded, and each with an "s" ("phones").
 * @return {Object<string, string>} Folded word to type name.
 */
function typeWords_() {
  /** @type {Object<string, string>} */
  const words = {};
  enrichmentTypes_().forEach(function(type) {
    [type.name, type.label].concat(VOCABULARY.header_synonyms[type.data_column] || [])
        .forEach(function(/** @type {string} */ word) {
          const folded = foldHeader_(word);
          words[folded] = words[folded] || type.name;
          words[folded + 's'] = words[folded + 's'] || type.name;
        });
  });
  return words;
}

/**
 * Reads the types argument of PRONTO_ENRICH: type names or words (email, phones,
 * personal email, e-mail, téléphone…) separated by commas, semicolons, "+" or "&"
 * (or spaces); "all" for every type; empty for email and phone.
 * @param {*} types e.g. "email", "phone", "email,personal email" or empty.
 * @return {Array<string>} The enrichment types, in the vocabulary's order.
 */
function parseTypes_(types) {
  const text = cellText_(types);
  if (!text) {
    return DEFAULT_FORMULA_TYPES.slice();
  }
  if (foldHeader_(text) === 'all') {
    return enrichmentTypeIds_();
  }
  const words = typeWords_();
  /** @type {Array<string>} */
  const wanted = [];
  /** @type {Array<string>} */
  const unknown = [];
  text.split(/[,;+&]+/).map(function(part) {
    return part.trim();
  }).filter(Boolean).forEach(function(part) {
    const whole = words[foldHeader_(part)];
    const found = whole ? [whole] : part.split(/\s+/).map(function(word) {
      return words[foldHeader_(word)] || '';
    });
    if (found.indexOf('') !== -1) {
      unknown.push(part);
      return;
    }
    found.forEach(function(name) {
      if (wanted.indexOf(name) === -1) {
        wanted.push(name);
      }
    });
  });
  if (unknown.length || !wanted.length) {
    const names = enrichmentTypeIds_().map(function(id) {
      return '"' + id + '"';
    });
    throw new Error('The types argument must be ' + inWords_(names, ' or ') + ', or several of ' +
        'them separated by commas, like "email,phone" (you gave "' + text + '").');
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
  /** @type {Array<Array<ContactEntry>>} */
  const entries = [];
  for (let row = 0; row < grid.rows; row++) {
    entries.push([]);
    for (let column = 0; column < grid.columns; column++) {
      const typed = [0, 1, 2, 3].map(function(index) {
        return cellText_(grid.value(index, row, column));
      });
      entries[row].push(contactEntry_({firstname: typed[0], lastname: typed[1], domain: typed[2],
        linkedin_url: typed[3]}, !typed.some(Boolean)));
    }
  }
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
  /** @type {Object<string, boolean>} */
  const noted = {};
  notePendingCell_(types, items.filter(function(item) {
    const pending = !noted[item.key] && item.types.some(function(type) {
      return lookup.results[item.key][type].status === 'pending';
    });
    noted[item.key] = true;
    return pending;
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

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {PRONTO_EMAIL, PRONTO_PHONE,
    PRONTO_PERSONAL_EMAIL, PRONTO_ENRICH, parseTypes_, formulaGrid_, looksLikeLinkedIn_,
    enrichColumns_};
}
