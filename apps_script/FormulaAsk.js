/**
 * FormulaAsk: what a PRONTO_* formula asks, from its arguments' values: the types, and
 * the contacts of its grid (a single cell, or ranges of the same size). The custom
 * functions (Formulas.js) run it on the values Sheets passes them; the pending refresh
 * (Pending.js) runs it on the values it reads from the sheet, to ask the function
 * whether a pending cell's answers are in before recalculating it.
 */

/** The formulas' contact arguments, for messages. */
const FORMULA_ARGUMENTS = ['first', 'last', 'company_or_domain', 'linkedin'];
/** @type {Object<string, string>} The type each one-type formula asks. */
const FORMULA_TYPE = {PRONTO_EMAIL: 'email', PRONTO_PHONE: 'phone',
  PRONTO_PERSONAL_EMAIL: 'personal_email'};

/**
 * A formula's grid of contacts.
 * @typedef {Object} FormulaGrid
 * @property {number} rows
 * @property {number} columns
 * @property {boolean} single Whether every argument is a single value.
 * @property {function(number, number, number): *} value An argument's value at a row and column.
 */

/**
 * Normalises the arguments of a formula into one grid: every range argument must
 * have the same size; a single value applies to every row.
 * @param {Array<*>} args The arguments as Sheets passes them (values or 2-D arrays).
 * @param {Array<string>} names The arguments' names, for messages.
 * @return {FormulaGrid} The grid.
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
 * The contact of each cell of a grid (blank when all its inputs are empty).
 * @param {FormulaGrid} grid The grid of first, last, company_or_domain, linkedin.
 * @return {Array<Array<ContactEntry>>} The entries, row by row.
 */
function formulaEntries_(grid) {
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
  return entries;
}

/**
 * What a formula asks: its contact arguments and its types. PRONTO_ENRICH(A2, B2, C2,
 * "phone") gives its types in place of the LinkedIn argument: anything there that is not
 * a LinkedIn URL is read as types, so a typo ("emial") is refused with a sentence
 * instead of being sent as a profile.
 * @param {string} name The formula's name (PRONTO_EMAIL…).
 * @param {Array<*>} args Its arguments' values, in order.
 * @return {{contactArgs: Array<*>, types: Array<string>}} first, last, company_or_domain,
 *     linkedin; and the types asked.
 */
function formulaAsk_(name, args) {
  if (name !== 'PRONTO_ENRICH') {
    return {contactArgs: args.slice(0, 4), types: [FORMULA_TYPE[name]]};
  }
  let profile = args[3];
  let asked = args[4];
  if ((asked === undefined || asked === '') && typeof profile === 'string' &&
      profile.trim() && !looksLikeLinkedIn_(profile)) {
    asked = profile;
    profile = undefined;
  }
  return {contactArgs: [args[0], args[1], args[2], profile], types: parseTypes_(asked)};
}

/**
 * The lookups a formula needs (throws what the formula itself would say when its
 * arguments cannot be read).
 * @param {string} name The formula's name.
 * @param {Array<*>} args Its arguments' values.
 * @return {Array<LookupItem>} The items (a contact may repeat).
 */
function formulaItems_(name, args) {
  const ask = formulaAsk_(name, args);
  /** @type {Array<{entry: ContactEntry, types: Array<string>}>} */
  const cells = [];
  formulaEntries_(formulaGrid_(ask.contactArgs, FORMULA_ARGUMENTS)).forEach(function(row) {
    row.forEach(function(entry) {
      cells.push({entry: entry, types: ask.types});
    });
  });
  return lookupItems_(cells);
}
