/**
 * Columns: the sheet vocabulary. Which enrichment types exist, which column holds
 * what (from the header row, in English or French, whatever the case, accents,
 * spaces or punctuation: "Prénom", "NOM", "Company Website"), and the output
 * columns results go to.
 *
 * Every such rule lives here, in Contacts.js or in Rows.js's constants, so that one
 * generated vocabulary file can replace them (issue 8).
 */

/**
 * One kind of lookup Pronto does.
 * @typedef {Object} EnrichmentType
 * @property {string} id What POST /enrich takes in enrichment_type.
 * @property {string} label What the sidebar and the schedule call it.
 * @property {Array<string>} words How a formula's types argument may name it (folded).
 * @property {string} creditsField The /healthz field giving its cost per answer found.
 * @property {number} defaultCredits Its cost when the function does not say.
 */

/**
 * The enrichment types, in the order the sidebar and the schedule offer them (their
 * checkboxes are generated from this list; adding a type is one entry here).
 * @type {Array<EnrichmentType>}
 */
const ENRICHMENT_TYPES = [
  {id: 'email', label: 'Email', words: ['email', 'emails', 'e-mail', 'e-mails', 'mail'],
    creditsField: 'credits_per_email', defaultCredits: 3},
  {id: 'phone', label: 'Phone', words: ['phone', 'phones', 'tel', 'telephone', 'mobile'],
    creditsField: 'credits_per_phone', defaultCredits: 30},
];

/**
 * The enrichment type ids.
 * @return {Array<string>} e.g. ['email', 'phone'].
 */
function enrichmentTypeIds_() {
  return ENRICHMENT_TYPES.map(function(type) {
    return type.id;
  });
}

/**
 * The known types among those asked, in the list's order; throws when none is left,
 * so that nothing is ever sent with a type the person did not choose.
 * @param {*} types The types asked (an array of ids).
 * @return {Array<string>} The types, at least one.
 */
function checkedTypes_(types) {
  const asked = Array.isArray(types) ? types.map(String) : [];
  const known = enrichmentTypeIds_().filter(function(id) {
    return asked.indexOf(id) !== -1;
  });
  if (!known.length) {
    throw new Error('Tick at least one of ' + ENRICHMENT_TYPES.map(function(type) {
      return type.label;
    }).join(' or ') + ' to look something up: nothing was sent.');
  }
  return known;
}

/**
 * A list of type ids in words ("email and phone").
 * @param {Array<string>} types The ids.
 * @return {string} The labels, lower case, joined.
 */
function typesInWords_(types) {
  const labels = ENRICHMENT_TYPES.filter(function(type) {
    return types.indexOf(type.id) !== -1;
  }).map(function(type) {
    return type.label.toLowerCase();
  });
  return labels.length > 1 ? labels.slice(0, -1).join(', ') + ' and ' + labels[labels.length - 1] :
    labels.join('');
}

/** Input roles, in the order the sidebar shows them. */
const INPUT_ROLES = ['first', 'last', 'full', 'company', 'domain', 'linkedin'];

/** Header synonyms of each input role, already folded (see headerKey_). */
const HEADER_SYNONYMS = {
  first: ['firstname', 'first', 'prenom', 'givenname', 'forename'],
  last: ['lastname', 'last', 'nom', 'surname', 'familyname', 'nomdefamille'],
  full: ['fullname', 'name', 'nomcomplet', 'contactname'],
  company: ['company', 'companyname', 'organisation', 'organization', 'societe',
    'entreprise', 'employer', 'account', 'accountname'],
  domain: ['domain', 'website', 'companywebsite', 'url', 'siteweb', 'site',
    'companydomain', 'web', 'siteinternet', 'companyorwebsite', 'companyordomain',
    'websiteorcompany', 'societeousite', 'entrepriseousite'],
  linkedin: ['linkedin', 'linkedinurl', 'profile', 'linkedinprofile', 'profileurl',
    'linkedinprofileurl', 'profillinkedin'],
};

/** Output columns, in the order they are appended when missing. */
const OUTPUT_HEADERS = ['Email', 'Email status', 'Phone', 'Phone status', 'Pronto status'];

/** The field names POST /fill's "columns" takes for each input role. */
const FILL_COLUMN_FIELDS = {
  first: 'firstname', last: 'lastname', full: 'full_name', company: 'company_name',
  domain: 'domain', linkedin: 'linkedin_url',
};

/** Folded output headers to the field each one receives. */
const OUTPUT_FIELDS = {
  email: 'email',
  emailstatus: 'emailStatus',
  phone: 'phone',
  phonestatus: 'phoneStatus',
  prontostatus: 'status',
};

/**
 * Which 0-based column holds each input role (-1 when absent).
 * @typedef {Object} ColumnMapping
 * @property {number} first
 * @property {number} last
 * @property {number} full
 * @property {number} company
 * @property {number} domain
 * @property {number} linkedin
 */

/**
 * Which 0-based column receives each output field (-1 when absent).
 * @typedef {Object} OutputColumns
 * @property {number} email
 * @property {number} emailStatus
 * @property {number} phone
 * @property {number} phoneStatus
 * @property {number} status
 */

/**
 * Folds a header for matching: no accents, no case, no spaces or punctuation.
 * @param {*} header The header cell.
 * @return {string} e.g. "Prénom " → "prenom", "Company Website" → "companywebsite".
 */
function headerKey_(header) {
  return foldText_(cellText_(header)).replace(/[^a-z0-9]/g, '');
}

/**
 * Maps the input roles to columns from the header row.
 * @param {Array<*>} headers The header row's values.
 * @return {ColumnMapping} The mapping (-1 for roles without a column).
 */
function detectColumns_(headers) {
  /** @type {Object<string, number>} */
  const mapping = {};
  INPUT_ROLES.forEach(function(role) {
    mapping[role] = -1;
  });
  const keys = headers.map(headerKey_);
  INPUT_ROLES.forEach(function(role) {
    /** @type {Array<string>} */
    const synonyms = HEADER_SYNONYMS[/** @type {keyof HEADER_SYNONYMS} */ (role)];
    for (let rank = 0; rank < synonyms.length && mapping[role] === -1; rank++) {
      const index = keys.indexOf(synonyms[rank]);
      if (index !== -1 && Object.values(mapping).indexOf(index) === -1) {
        mapping[role] = index;
      }
    }
  });
  return /** @type {ColumnMapping} */ (/** @type {*} */ (mapping));
}

/**
 * Tells whether a mapping is enough to build contacts: a first and last name
 * (or a full name), and a company, domain or LinkedIn column.
 * @param {ColumnMapping} mapping The mapping.
 * @return {string} '' when usable, otherwise what is missing, in words.
 */
function mappingProblem_(mapping) {
  const missing = [];
  const hasNames = (mapping.first !== -1 && mapping.last !== -1) || mapping.full !== -1;
  if (!hasNames) {
    missing.push('a first name and a last name column (or a full name column)');
  }
  if (mapping.company === -1 && mapping.domain === -1 && mapping.linkedin === -1) {
    missing.push('a company, website or LinkedIn column');
  }
  return missing.join(' and ');
}

/**
 * Finds the header row: of the first rows, the one whose cells match the most
 * known headers.
 * @param {Array<Array<*>>} topRows The first rows of the sheet (up to 10).
 * @return {number} The 0-based index of the header row, or -1 when none matches.
 */
function findHeaderRow_(topRows) {
  let best = -1;
  let bestScore = 0;
  topRows.forEach(function(row, index) {
    const mapping = detectColumns_(row);
    const score = INPUT_ROLES.filter(function(role) {
      return mapping[/** @type {keyof ColumnMapping} */ (role)] !== -1;
    }).length;
    if (score > bestScore) {
      best = index;
      bestScore = score;
    }
  });
  return best;
}

/**
 * Finds the output columns already present in the header row.
 * @param {Array<*>} headers The header row's values.
 * @return {OutputColumns} The columns (-1 for those missing).
 */
function findOutputColumns_(headers) {
  /** @type {Object<string, number>} */
  const columns = {email: -1, emailStatus: -1, phone: -1, phoneStatus: -1, status: -1};
  headers.forEach(function(header, index) {
    const field = OUTPUT_FIELDS[/** @type {keyof OUTPUT_FIELDS} */ (headerKey_(header))];
    if (field && columns[field] === -1) {
      columns[field] = index;
    }
  });
  return /** @type {OutputColumns} */ (/** @type {*} */ (columns));
}

/**
 * Turns a 0-based column index into its letter ("A", "Z", "AA").
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

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {
    ENRICHMENT_TYPES, INPUT_ROLES, OUTPUT_HEADERS, enrichmentTypeIds_, checkedTypes_, typesInWords_,
    headerKey_, detectColumns_, mappingProblem_, findHeaderRow_, findOutputColumns_, columnLetter_,
  };
}
