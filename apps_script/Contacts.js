/**
 * Contacts: turning cell values into the contacts POST /enrich takes, deciding
 * which ones cannot be looked up, and the normalised key two equal contacts share.
 *
 * Shared by the formulas, the sidebar and the scheduled refresh (all Apps Script
 * files share one global scope).
 */

/**
 * A contact as POST /enrich takes it.
 * @typedef {Object} Contact
 * @property {string} firstname
 * @property {string} lastname
 * @property {string} [company_name]
 * @property {string} [domain]
 * @property {string} [linkedin_url]
 */

/**
 * The raw values of one row, before they become a contact.
 * @typedef {Object} ContactFields
 * @property {*} [first] First name.
 * @property {*} [last] Last name.
 * @property {*} [full] Full name, split when first and last are missing.
 * @property {*} [company] Company name.
 * @property {*} [domain] Company website or domain.
 * @property {*} [companyOrDomain] A company name, or a domain when it has a dot and no space.
 * @property {*} [linkedin] LinkedIn profile URL.
 */

/**
 * What one row became: blank (nothing to look up), invalid (with what is
 * missing), or a contact with its key.
 * @typedef {Object} ContactEntry
 * @property {boolean} blank True when every field is empty.
 * @property {?Contact} contact The contact, or null when blank or invalid.
 * @property {string} key The normalised key (empty when blank or invalid).
 * @property {string} invalidReason What to add to the row, in a sentence (empty when valid).
 */

/**
 * Trims a cell value into a single-spaced string ('' for empty cells).
 * @param {*} value A cell value (string, number, Date, boolean or empty).
 * @return {string} The text.
 */
function cellText_(value) {
  if (value === null || value === undefined) {
    return '';
  }
  return String(value).replace(/\s+/g, ' ').trim();
}

/**
 * Lower-cases and strips accents and punctuation runs, for comparisons only.
 * @param {string} text Any text.
 * @return {string} The comparable form.
 */
function foldText_(text) {
  return text
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/\s+/g, ' ')
      .trim();
}

/**
 * Reduces a website, URL or e-mail domain to its bare host ("https://www.Acme.com/x" → "acme.com").
 * @param {string} text The website as typed.
 * @return {string} The host, lower-cased, or '' when there is none.
 */
function normaliseDomain_(text) {
  let host = text.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  host = host.replace(/^[^@/]*@/, '');
  host = host.split(/[/?#]/)[0];
  host = host.replace(/:\d+$/, '').replace(/^www\./, '').replace(/\.$/, '');
  return host;
}

/**
 * Tells whether a value typed in the company-or-domain argument is a domain:
 * it has a dot and no space ("acme.com", "https://acme.com/"), unlike "Acme Inc.".
 * @param {string} text The value.
 * @return {boolean} True for a domain.
 */
function looksLikeDomain_(text) {
  return text.indexOf('.') !== -1 && !/\s/.test(text.trim());
}

/**
 * Splits a full name into first and last name ("Dupont, Marie" is understood too).
 * @param {string} fullName The full name.
 * @return {{first: string, last: string}} The parts ('' when absent).
 */
function splitFullName_(fullName) {
  const text = cellText_(fullName);
  if (text.indexOf(',') !== -1) {
    const parts = text.split(',');
    return {first: cellText_(parts.slice(1).join(' ')), last: cellText_(parts[0])};
  }
  const words = text.split(' ').filter(Boolean);
  if (words.length < 2) {
    return {first: words[0] || '', last: ''};
  }
  return {first: words[0], last: words.slice(1).join(' ')};
}

/**
 * Builds the contact of one row and decides whether it can be looked up:
 * it needs a first and a last name, and a company, a domain or a LinkedIn URL.
 * @param {ContactFields} fields The row's values.
 * @return {ContactEntry} The entry.
 */
function buildContact_(fields) {
  let first = cellText_(fields.first);
  let last = cellText_(fields.last);
  const full = cellText_(fields.full);
  let company = cellText_(fields.company);
  let domain = cellText_(fields.domain);
  const either = cellText_(fields.companyOrDomain);
  const linkedin = cellText_(fields.linkedin);
  if (either) {
    if (looksLikeDomain_(either)) {
      domain = domain || either;
    } else {
      company = company || either;
    }
  }
  if (domain && !looksLikeDomain_(domain)) {
    // A company name typed in the website column ("Acme SAS"): use it as the company.
    company = company || domain;
    domain = '';
  }
  if (!first && !last && full) {
    const parts = splitFullName_(full);
    first = parts.first;
    last = parts.last;
  }
  const blank = !first && !last && !full && !company && !domain && !linkedin;
  /** @type {ContactEntry} */
  const entry = {blank: blank, contact: null, key: '', invalidReason: ''};
  if (blank) {
    return entry;
  }
  // Worded as the function words them, so the Pronto status column reads the same either way.
  const missing = [];
  if (!first) {
    missing.push('first name');
  }
  if (!last) {
    missing.push('last name');
  }
  if (missing.length) {
    entry.invalidReason = 'Add the ' + missing.join(' and ') + ' to this row.';
    return entry;
  }
  let normalisedDomain = domain ? normaliseDomain_(domain) : '';
  if (normalisedDomain && !/^[^\s.]+(\.[^\s.]+)+$/.test(normalisedDomain)) {
    company = company || domain;
    normalisedDomain = '';
  }
  if (!company && !normalisedDomain && !linkedin) {
    entry.invalidReason = 'Add a company name, a company website or a LinkedIn URL to this row.';
    return entry;
  }
  /** @type {Contact} */
  const contact = {firstname: first, lastname: last};
  if (company) {
    contact.company_name = company;
  }
  if (normalisedDomain) {
    contact.domain = normalisedDomain;
  }
  if (linkedin) {
    contact.linkedin_url = linkedin;
  }
  entry.contact = contact;
  entry.key = contactKey_(contact);
  return entry;
}

/**
 * The key two rows share when they describe the same person the same way:
 * case, accents, spacing and the form of the domain or LinkedIn URL do not count.
 * @param {Contact} contact The contact.
 * @return {string} The key.
 */
function contactKey_(contact) {
  const linkedin = foldText_(contact.linkedin_url || '')
      .replace(/^https?:\/\//, '')
      .replace(/^[a-z]{2,3}\.linkedin\.com/, 'linkedin.com')
      .replace(/^www\./, '')
      .replace(/[/?#]+$/, '');
  return [
    foldText_(contact.firstname),
    foldText_(contact.lastname),
    foldText_(contact.company_name || ''),
    contact.domain || '',
    linkedin,
  ].join('|');
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {
    cellText_, foldText_, normaliseDomain_, looksLikeDomain_, splitFullName_,
    buildContact_, contactKey_,
  };
}
