/**
 * Results: what a contact got back (a status per enrichment type, one for the row), the
 * per-type done rule, and the output cells a result writes. The function's own rules
 * (function/pronto_sheets/enrich/results.py and sheets/cells.py), from the same
 * vocabulary, so a row judged here is judged the same by /fill:
 *
 * - Done is per type: a row is done for email when its Email cell has an address or
 *   its Email status records an answer (not_found); likewise Phone / Phone status and
 *   Personal email / Personal email status. A run asks each row only the requested
 *   types it is not done for.
 * - A data cell (Email, Phone, Personal email) only ever holds a value Pronto returned;
 *   sentences ("needs_linkedin: Add a LinkedIn URL to look up a phone.") go to status
 *   cells; a type done before is never erased; a row that cannot be looked up at all
 *   gets only its Pronto status.
 */

/**
 * What one enrichment type got for one contact.
 * @typedef {Object} TypeResult
 * @property {string} status success, not_found, invalid, needs_linkedin, paused,
 *     pending, failed or over_budget (VOCABULARY.statuses).
 * @property {?string} value The email or personal email found.
 * @property {Array<{number: string, type: ?string}>} phones The phones found.
 * @property {?string} valueStatus Pronto's word for the value (email_status, …).
 * @property {?string} message Why there is no answer, or Pronto's message.
 */

/**
 * One contact row's result: its types', and one status for the row.
 * @typedef {Object} RowResult
 * @property {string} status The row's status (one of the HTTP contract's six).
 * @property {Object<string, TypeResult>} types By type name.
 * @property {?string} message The sentences of its types without an answer.
 */

/**
 * A status cell: the code, then the message when there is one.
 * @param {string} code A status code.
 * @param {?string|undefined} message The message.
 * @return {string} e.g. "needs_linkedin: Add a LinkedIn URL to look up a phone."
 */
function statusText_(code, message) {
  const text = squeezeSpaces_(message || '');
  return text ? code + VOCABULARY.sheet_cells.status_separator + text : code;
}

/**
 * The code a status cell starts with: "not_found", "invalid: Add…" → "invalid".
 * @param {string} text The cell's text.
 * @return {string} The code (lower case).
 */
function statusCode_(text) {
  return squeezeSpaces_(String(text).split(':')[0]).toLowerCase();
}

/**
 * Whether a status is an answer (Pronto decided: success, not_found), not "not yet".
 * @param {string} code A status code.
 * @return {boolean} True for an answer.
 */
function isAnswer_(code) {
  const status = VOCABULARY.statuses[code];
  return Boolean(status && status.answer);
}

/**
 * Whether some text is one of the vocabulary's status codes (with or without a message).
 * @param {string} text A cell's text.
 * @return {boolean} True for "pending: …", "not_found", "needs_linkedin: …".
 */
function isStatusText_(text) {
  return Object.prototype.hasOwnProperty.call(VOCABULARY.statuses, statusCode_(text));
}

/**
 * A message as one sentence: squeezed, with a full stop when it has none.
 * @param {?string|undefined} message The message.
 * @return {string} The sentence ('' for none).
 */
function asSentence_(message) {
  const text = squeezeSpaces_(message || '');
  return !text || /[.!?…]$/.test(text) ? text : text + '.';
}

/**
 * A type result with only a status and a message (nothing found, nothing to show).
 * @param {string} status The status.
 * @param {?string} message The message.
 * @return {TypeResult} The result.
 */
function typeResult_(status, message) {
  return {status: status, value: null, phones: [], valueStatus: null, message: message};
}

/**
 * A row's result from its types': the row's status by the vocabulary's precedence
 * (a type's needs_linkedin counting as invalid, paused as failed), and the sentences of
 * the types without an answer (or of not_found when that is the row's status).
 * @param {Object<string, TypeResult>} types By type name, in the vocabulary's order.
 * @return {RowResult} The row's result.
 */
function combineTypes_(types) {
  const names = Object.keys(types);
  const present = names.map(function(name) {
    const status = VOCABULARY.statuses[types[name].status] || {};
    return status.row_status || types[name].status;
  });
  const status = VOCABULARY.row_status_precedence.filter(function(/** @type {string} */ code) {
    return present.indexOf(code) !== -1;
  })[0] || 'invalid';
  /** @type {Array<string>} */
  const messages = [];
  names.forEach(function(name) {
    const result = types[name];
    const wanted = !isAnswer_(result.status) ||
        (status === 'not_found' && result.status === 'not_found');
    const sentence = asSentence_(result.message);
    if (wanted && sentence && messages.indexOf(sentence) === -1) {
      messages.push(sentence);
    }
  });
  return {status: status, types: types, message: messages.join(' ') || null};
}

/**
 * The result of a row that cannot be looked up at all (no name, nothing to find it by).
 * @param {string} reason What to add, in a sentence.
 * @param {Array<string>} types The types asked.
 * @return {RowResult} Every type invalid, with the reason.
 */
function invalidRowResult_(reason, types) {
  /** @type {Object<string, TypeResult>} */
  const byType = {};
  types.forEach(function(name) {
    byType[name] = typeResult_('invalid', reason);
  });
  return {status: 'invalid', types: byType, message: reason};
}

/**
 * One result of POST /enrich as a RowResult (phones as objects or plain strings).
 * @param {*} raw The result as the function sent it.
 * @param {Array<string>} asked The types the call asked (for an answer without `types`).
 * @return {RowResult} The result.
 */
function resultFromAnswer_(raw, asked) {
  const answer = raw || {};
  const status = String(answer.status || 'failed');
  const entries = answer.types && typeof answer.types === 'object' ? answer.types : null;
  /** @type {Object<string, TypeResult>} */
  const types = {};
  (entries ? Object.keys(entries) : asked).forEach(function(name) {
    const entry = entries ? entries[name] || {} : {status: status, message: answer.message};
    const typeStatus = String(entry.status || status);
    const found = typeStatus === 'success';
    types[name] = {
      status: typeStatus,
      value: found && name !== 'phone' && answer[name] ? String(answer[name]) : null,
      phones: found && name === 'phone' ? phonesOf_(answer.phones) : [],
      valueStatus: found && answer[name + '_status'] ? String(answer[name + '_status']) : null,
      message: entry.message === undefined || entry.message === null ? null : String(entry.message),
    };
  });
  return {status: status, types: types,
    message: answer.message === undefined || answer.message === null ? null : String(answer.message)};
}

/**
 * Phones as Pronto may send them: objects {number, type} or plain strings.
 * @param {*} raw The phones.
 * @return {Array<{number: string, type: ?string}>} The phones with a number.
 */
function phonesOf_(raw) {
  /** @type {Array<*>} */
  const list = Array.isArray(raw) ? raw : [];
  return list.map(function(phone) {
    if (phone && typeof phone === 'object') {
      return {number: String(phone.number || ''), type: phone.type ? String(phone.type) : null};
    }
    return {number: phone === null || phone === undefined ? '' : String(phone), type: null};
  }).filter(function(phone) {
    return Boolean(phone.number);
  });
}

/**
 * The value a type found, as its data cell shows it (phones joined by ", ").
 * @param {string} name The type.
 * @param {TypeResult} result Its result.
 * @return {string} The value ('' when nothing was found).
 */
function typeValue_(name, result) {
  if (result.status !== 'success') {
    return '';
  }
  if (name === 'phone') {
    return result.phones.map(function(phone) {
      return phone.number;
    }).join(VOCABULARY.sheet_cells.phone_separator);
  }
  return result.value || '';
}

/**
 * The output cells a result writes, by field (email, phone_status, pronto_status, …).
 * @param {RowResult} result The row's result.
 * @param {Array<string>} [doneBefore] Types the row already had an answer for: those are
 *     only ever replaced by a new value found, never erased.
 * @return {Object<string, string>} The cells to write.
 */
function outputCells_(result, doneBefore) {
  /** @type {Object<string, string>} */
  const cells = {};
  cells[PRONTO_STATUS_FIELD] = statusText_(result.status, result.message);
  const names = Object.keys(result.types);
  if (names.every(function(name) {
    return result.types[name].status === 'invalid';
  })) {
    return cells; // the row itself cannot be looked up: only its Pronto status says so
  }
  names.forEach(function(name) {
    const info = typeInfo_(name);
    const typeResult = result.types[name];
    if (typeResult.status === 'success') {
      cells[info.data_column] = typeValue_(name, typeResult);
      cells[info.status_column] = typeResult.valueStatus || '';
    } else if (doneBefore && doneBefore.indexOf(name) !== -1) {
      return; // never erase an answer already in the sheet
    } else if (typeResult.status === 'not_found') {
      cells[info.status_column] = VOCABULARY.sheet_cells.not_found_text;
    } else {
      cells[info.status_column] = statusText_(typeResult.status, typeResult.message);
    }
  });
  return cells;
}

/**
 * Whether a row already has this type's answer: a value, or a status recording one.
 * @param {Object<string, number>} outputs The sheet's output columns.
 * @param {Array<*>} row The row's values.
 * @param {string} type The type.
 * @return {boolean} True when done.
 */
function typeDone_(outputs, row, type) {
  const info = typeInfo_(type);
  if (rowCell_(row, outputs[info.data_column])) {
    return true;
  }
  const code = statusCode_(rowCell_(row, outputs[info.status_column]));
  return VOCABULARY.sheet_cells.done_status_codes.indexOf(code) !== -1;
}

/**
 * The requested types a row is not done for.
 * @param {Object<string, number>} outputs The sheet's output columns.
 * @param {Array<*>} row The row's values.
 * @param {Array<string>} types The types requested.
 * @return {Array<string>} Those still to do.
 */
function typesToDo_(outputs, row, types) {
  return types.filter(function(type) {
    return !typeDone_(outputs, row, type);
  });
}
