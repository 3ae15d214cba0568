/**
 * Types: the kinds of lookup Pronto does (email, phone, personal email) as the
 * vocabulary lists them, and words about them. The bottom of the add-in with
 * Vocabulary.js: every other file may use it, it uses nothing but the vocabulary.
 */

/**
 * One kind of lookup Pronto does (an entry of VOCABULARY.enrichment_types).
 * @typedef {Object} TypeInfo
 * @property {string} name What POST /enrich takes in enrichment_type.
 * @property {string} label What the sidebar and the schedule call it.
 * @property {boolean} needs_linkedin Whether Pronto needs a LinkedIn URL for it.
 * @property {number} default_credits Its cost when the function does not say.
 * @property {string} data_column The output field of its value.
 * @property {string} status_column The output field of its status.
 */

/**
 * The enrichment types, in the vocabulary's order (email, phone, personal email): the
 * sidebar's and the schedule's checkboxes, the formulas' types, the estimates.
 * @return {Array<TypeInfo>} The types.
 */
function enrichmentTypes_() {
  return VOCABULARY.enrichment_types;
}

/**
 * The enrichment type names.
 * @return {Array<string>} e.g. ['email', 'phone', 'personal_email'].
 */
function enrichmentTypeIds_() {
  return enrichmentTypes_().map(function(type) {
    return type.name;
  });
}

/**
 * One enrichment type.
 * @param {string} name Its name.
 * @return {TypeInfo} The type; throws for an unknown name.
 */
function typeInfo_(name) {
  const found = enrichmentTypes_().filter(function(type) {
    return type.name === name;
  })[0];
  if (!found) {
    throw new Error('Unknown enrichment type "' + name + '".');
  }
  return found;
}

/**
 * The known types among those asked, in the vocabulary's order; throws when none is
 * left, so that nothing is ever sent with a type the person did not choose.
 * @param {*} types The types asked (an array of names).
 * @return {Array<string>} The types, at least one.
 */
function checkedTypes_(types) {
  const asked = Array.isArray(types) ? types.map(String) : [];
  const known = enrichmentTypeIds_().filter(function(id) {
    return asked.indexOf(id) !== -1;
  });
  if (!known.length) {
    throw new Error('Tick at least one of ' + inWords_(enrichmentTypes_().map(function(type) {
      return type.label;
    }), ' or ') + ' to look something up: nothing was sent.');
  }
  return known;
}

/**
 * Words joined as people write them: "a", "a or b", "a, b or c".
 * @param {Array<string>} words The words.
 * @param {string} last The last joiner (' and ', ' or ').
 * @return {string} The phrase.
 */
function inWords_(words, last) {
  return words.length > 1 ? words.slice(0, -1).join(', ') + last + words[words.length - 1] :
    words.join('');
}

/**
 * A list of type names in words ("email and personal email").
 * @param {Array<string>} types The names.
 * @return {string} The labels, lower case, joined.
 */
function typesInWords_(types) {
  return inWords_(enrichmentTypes_().filter(function(type) {
    return types.indexOf(type.name) !== -1;
  }).map(function(type) {
    return type.label.toLowerCase();
  }), ' and ');
}
