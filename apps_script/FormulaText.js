/**
 * FormulaText: what the text of a PRONTO_* formula says, read without running it:
 * which formula it is, the types it asks, and how many rows and columns its answer
 * fills. The custom functions (Formulas.js), the pending cells (Pending.js) and
 * "Freeze formulas to values" (Menu.js) read formulas through it.
 */

/** Matches a cell formula calling one of our formulas. */
const PRONTO_FORMULA =
    /^=\s*(PRONTO_EMAIL|PRONTO_PHONE|PRONTO_PERSONAL_EMAIL|PRONTO_ENRICH)\s*\((.*)\)\s*$/i;

/** What a formula cell that threw shows, as a script reads it (getValues). */
const FORMULA_ERROR_TEXT = '#ERROR!';

/**
 * How many rows and columns a PRONTO_* formula fills, from its range arguments (and,
 * for PRONTO_ENRICH, its types).
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet (for open-ended ranges).
 * @param {string} name The formula name.
 * @param {string} argumentText The text between the parentheses.
 * @return {{rows: number, columns: number}} The size of the answer.
 */
function spillSize_(sheet, name, argumentText) {
  let rows = 1;
  let columns = 1;
  const args = argumentText.split(/[,;]/);
  args.forEach(function(argument) {
    const match = /^\s*(?:(?:'[^']+'|[^!'"]+)!)?\$?([A-Z]+)\$?(\d+)?:\$?([A-Z]+)\$?(\d+)?\s*$/i
        .exec(argument);
    if (!match) {
      return;
    }
    const startRow = Number(match[2] || 1);
    const endRow = match[4] ? Number(match[4]) : sheet.getLastRow();
    rows = Math.max(rows, endRow - startRow + 1);
    columns = Math.max(columns, columnNumber_(match[3]) - columnNumber_(match[1]) + 1);
  });
  if (name !== 'PRONTO_ENRICH') {
    return {rows: rows, columns: columns};
  }
  return {rows: rows, columns: enrichColumns_(formulaTypes_(sheet, args)).length};
}

/**
 * The types a PRONTO_ENRICH formula asks, from its text: the fifth argument, or a
 * fourth that is no LinkedIn URL, as a quoted text or a cell holding it.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {Array<string>} args The formula's arguments as typed.
 * @return {Array<string>} The types (the default when they cannot be read).
 */
function formulaTypes_(sheet, args) {
  /**
   * @param {string|undefined} text An argument as typed.
   * @return {string} Its value: a quoted text, or the value of the one cell it names.
   */
  function valueOf(text) {
    const argument = (text || '').trim();
    const quoted = /^"(.*)"$/.exec(argument);
    if (quoted) {
      return quoted[1].replace(/""/g, '"');
    }
    if (/^(?:(?:'[^']+'|[^!'"]+)!)?\$?[A-Z]+\$?\d+$/i.test(argument)) {
      try {
        return cellText_(sheet.getRange(argument.replace(/\$/g, '')).getValue());
      } catch {
        return ''; // A cell that cannot be read: the default types are assumed for the size.
      }
    }
    return '';
  }
  let types = valueOf(args[4]);
  const fourth = valueOf(args[3]);
  if (!types && fourth && !looksLikeLinkedIn_(fourth)) {
    types = fourth;
  }
  try {
    return parseTypes_(types);
  } catch {
    return parseTypes_(''); // The formula itself shows the refusal; the size uses the default.
  }
}

/** PRONTO_ENRICH's types when none are given (personal emails are asked by name). */
const DEFAULT_FORMULA_TYPES = ['email', 'phone'];

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

/** The text of the argument the refresh writes ("refresh 3"), and how to find it. */
const REFRESH_ARGUMENT = /^"refresh (\d+)"$/;

/**
 * A formula's name and its arguments as typed (split at the top-level commas, quotes and
 * parentheses respected), or null when it is no Pronto formula.
 * @param {string} formula The formula text ("=PRONTO_EMAIL(A2, B2, C2)").
 * @return {?{name: string, args: Array<string>}} The call.
 */
function formulaCall_(formula) {
  const match = PRONTO_FORMULA.exec(formula || '');
  if (!match) {
    return null;
  }
  /** @type {Array<string>} */
  const args = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (let i = 0; i < match[2].length; i++) {
    const ch = match[2].charAt(i);
    quoted = ch === '"' ? !quoted : quoted;
    depth += quoted ? 0 : (ch === '(' ? 1 : ch === ')' ? -1 : 0);
    if (!quoted && depth === 0 && (ch === ',' || ch === ';')) {
      args.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  args.push(current.trim());
  return {name: match[1].toUpperCase(), args: args.length === 1 && !args[0] ? [] : args};
}

/**
 * The formula with its refresh argument changed ("refresh 1", then 2, 3…), which makes
 * Sheets calculate it again: Google documents recalculation when a formula's text
 * changes (developers.google.com/apps-script/guides/sheets/functions), and the argument
 * changes nothing else (the formulas ignore it). Missing arguments before it are left empty.
 * @param {string} formula The formula text.
 * @return {?string} The new text, or null when it is no Pronto formula or already has
 *     more arguments than the refresh's place.
 */
function refreshedFormula_(formula) {
  const call = formulaCall_(formula);
  if (!call) {
    return null;
  }
  // PRONTO_ENRICH's sixth argument, the others' fifth.
  const place = call.name === 'PRONTO_ENRICH' ? 5 : 4;
  const args = call.args.slice();
  let tick = 1;
  const current = args.length === place + 1 ? REFRESH_ARGUMENT.exec(args[place]) : null;
  if (current) {
    tick = Number(current[1]) + 1;
  } else if (args.length > place) {
    return null;
  }
  while (args.length < place) {
    args.push('');
  }
  args[place] = '"refresh ' + tick + '"';
  return '=' + call.name + '(' + args.join(', ') + ')';
}
