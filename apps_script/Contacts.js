/**
 * Contacts: turning cell values into the contacts POST /enrich takes, deciding which
 * ones cannot be looked up, and the identity two rows of the same person share.
 *
 * Every step is the function's own (function/pronto_sheets/enrich/contacts.py and
 * vocabulary.py), taken from the same vocabulary (VOCABULARY.identity, .messages): the
 * parity test (tests/test_parity.py) runs both on the same 250 rows. So " zoé  LOVELACE "
 * at https://www.Acme.io/about is the same person here as in /fill: Zoé = ZOE = zoe.
 *
 * Shared by the formulas, the sidebar and the scheduled refresh (all Apps Script
 * files share one global scope).
 */

/**
 * A contact, trimmed and normalised ('' for what the row does not give).
 * @typedef {Object} Contact
 * @property {string} firstname
 * @property {string} lastname
 * @property {string} company_name
 * @property {string} domain The bare host ("acme.io").
 * @property {string} linkedin_url The canonical profile URL, or ''.
 */

/**
 * What one row (or one formula cell) became.
 * @typedef {Object} ContactEntry
 * @property {boolean} blank True when every input is empty (such rows are left alone).
 * @property {Contact} contact The normalised contact (all '' when blank).
 * @property {boolean} valid Whether Pronto can be asked about it at all.
 * @property {string} key Its identity (identityText_), '' when blank or invalid.
 * @property {string} invalidReason What to add to the row, in a sentence ('' when valid).
 */

/**
 * White space as JavaScript's \s knows it, spelled out as the function spells it
 * (vocabulary.py WHITESPACE) so both sides squeeze exactly the same characters.
 */
const WHITESPACE_CLASS = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f' +
    '\\u205f\\u3000\\ufeff';

/**
 * Runs of white space as one space, none at either end.
 * @param {string} text Any text.
 * @return {string} "  Zoé \u00a0 Dupont " → "Zoé Dupont".
 */
function squeezeSpaces_(text) {
  return text.replace(new RegExp('[' + WHITESPACE_CLASS + ']+', 'g'), ' ').replace(/^ | $/g, '');
}

/**
 * A cell as text, trimmed and single-spaced ('' for an empty cell).
 * @param {*} value A cell value (string, number, Date, boolean or empty).
 * @return {string} The text.
 */
function cellText_(value) {
  if (value === null || value === undefined) {
    return '';
  }
  return squeezeSpaces_(String(value));
}

/**
 * Text as identity compares it: Unicode NFKD, combining marks dropped, lower case,
 * spaces squeezed ("  Zoé  DUPONT " → "zoe dupont"); vocabulary.py fold_text.
 * @param {string} text Any text.
 * @return {string} The folded text.
 */
function foldText_(text) {
  return squeezeSpaces_(text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase());
}

/**
 * A contact field as typed: NFC (an "é" typed as e + accent equals "é"), squeezed.
 * @param {*} value The value.
 * @return {string} The text.
 */
function cleanText_(value) {
  if (value === null || value === undefined) {
    return '';
  }
  return squeezeSpaces_(String(value).normalize('NFC'));
}

/**
 * The bare host of a website as people paste it ("https://www.Acme.io:443/about" →
 * "acme.io"), or '' when nothing host-like is left: lower case; an email address keeps
 * its domain; scheme, path, query, fragment, user and port dropped; a leading "www."
 * and trailing dots dropped; two or more labels of letters, digits and inner hyphens.
 * @param {*} value The website as typed.
 * @return {string} The host, or ''.
 */
function normaliseDomain_(value) {
  let text = cleanText_(value).toLowerCase();
  if (!text) {
    return '';
  }
  if (text.indexOf('@') !== -1 && text.indexOf('://') === -1) {
    text = text.slice(text.lastIndexOf('@') + 1); // an email address: keep its domain
  }
  text = text.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  let host = text.split(/[/?#]/)[0];
  host = host.slice(host.lastIndexOf('@') + 1);
  host = host.replace(/:[0-9]*$/, '').replace(/\.+$/, '');
  VOCABULARY.identity.domain_drop_prefixes.forEach(function(/** @type {string} */ prefix) {
    if (host.indexOf(prefix) === 0) {
      host = host.slice(prefix.length);
    }
  });
  const label = '[\\p{L}\\p{N}][\\p{L}\\p{N}-]{0,62}';
  const domain = new RegExp('^(?:' + label + '\\.)+' + label + '$', 'u');
  if (!domain.test(host) || /(^|\.)-|-(\.|$)/.test(host)) {
    return '';
  }
  return host;
}

/**
 * A LinkedIn profile URL in its one canonical spelling, or '' when it is not a
 * person's profile ("linkedin.com/in/Ada-L?trk=x" → "https://www.linkedin.com/in/ada-l/").
 * @param {*} value The URL as typed.
 * @return {string} The canonical URL, or ''.
 */
function normaliseLinkedIn_(value) {
  const rules = VOCABULARY.identity;
  const text = cleanText_(value);
  if (!text) {
    return '';
  }
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/i.exec(
      text.indexOf('://') !== -1 ? text : 'https://' + text);
  if (!match) {
    return '';
  }
  const userAndHost = match[2];
  const host = userAndHost.slice(userAndHost.lastIndexOf('@') + 1).toLowerCase()
      .replace(/:[0-9]*$/, '').replace(/\.+$/, '');
  const suffix = rules.linkedin_host_suffix;
  if (host !== suffix && !host.endsWith('.' + suffix)) {
    return '';
  }
  const path = match[3].replace(/\/+$/, '').toLowerCase();
  if (!rules.linkedin_path_prefixes.some(function(/** @type {string} */ prefix) {
    return path.indexOf(prefix) === 0;
  })) {
    return ''; // a company page, a search, a post: not a person's profile
  }
  return String(rules.linkedin_canonical).replace('{path}', path);
}

/**
 * The contact of some typed fields (unknown ones ignored). A "domain" that is no host
 * ("Acme SAS" typed in a website column) is the company when there is none.
 * @param {{firstname?: *, lastname?: *, company_name?: *, domain?: *, linkedin_url?: *}} fields
 *     The values as typed.
 * @return {Contact} The contact.
 */
function contactFromFields_(fields) {
  const typedDomain = cleanText_(fields.domain);
  const domain = normaliseDomain_(typedDomain);
  let company = cleanText_(fields.company_name);
  if (!domain && !company && typedDomain.indexOf('/') === -1 &&
      /[\p{L}\p{N}]/u.test(typedDomain)) {
    company = typedDomain;
  }
  return {
    firstname: cleanText_(fields.firstname),
    lastname: cleanText_(fields.lastname),
    company_name: company,
    domain: domain,
    linkedin_url: normaliseLinkedIn_(fields.linkedin_url),
  };
}

/**
 * Why Pronto cannot be asked about this contact at all, in a sentence; '' when it can.
 * @param {Contact} contact The contact.
 * @return {string} e.g. "Add the last name to this row."
 */
function invalidReason_(contact) {
  const messages = VOCABULARY.messages;
  const missing = [];
  if (!contact.firstname) {
    missing.push(messages.missing_name_first);
  }
  if (!contact.lastname) {
    missing.push(messages.missing_name_last);
  }
  if (missing.length) {
    return String(messages.missing_names).replace('{fields}', missing.join(messages.missing_name_joiner));
  }
  if (!contact.domain && !contact.company_name && !contact.linkedin_url) {
    return String(messages.missing_anchor);
  }
  return '';
}

/**
 * Whether Pronto may be asked this type for this contact: phone and personal email
 * need a LinkedIn URL (Pronto refuses them without one, so they are never sent).
 * @param {Contact} contact The contact.
 * @param {string} type An enrichment type.
 * @return {boolean} True when it may.
 */
function canAsk_(contact, type) {
  return Boolean(contact.linkedin_url) || !typeInfo_(type).needs_linkedin;
}

/**
 * The folded fields that decide "same person", as one string, exactly as the function
 * builds it: 'v2:["zoe","lovelace","","acme.io",""]'.
 * @param {Contact} contact The contact.
 * @return {string} The identity.
 */
function identityText_(contact) {
  return 'v' + VOCABULARY.identity.version + ':' + JSON.stringify([
    foldText_(contact.firstname),
    foldText_(contact.lastname),
    foldText_(contact.company_name),
    contact.domain,
    contact.linkedin_url,
  ]);
}

/**
 * The entry of some typed fields: blank, invalid (with what to add) or a contact with
 * its identity.
 * @param {{firstname?: *, lastname?: *, company_name?: *, domain?: *, linkedin_url?: *}} fields
 *     The values as typed.
 * @param {boolean} blank Whether the row's inputs are all empty.
 * @return {ContactEntry} The entry.
 */
function contactEntry_(fields, blank) {
  const contact = contactFromFields_(fields);
  const reason = blank ? '' : invalidReason_(contact);
  return {
    blank: blank,
    contact: contact,
    valid: !blank && !reason,
    key: blank || reason ? '' : identityText_(contact),
    invalidReason: reason,
  };
}

/**
 * The contact as POST /enrich takes it: only the fields it has.
 * @param {Contact} contact The contact.
 * @return {Object<string, string>} The request's contact.
 */
function requestContact_(contact) {
  /** @type {Object<string, string>} */
  const sent = {};
  ['firstname', 'lastname', 'company_name', 'domain', 'linkedin_url'].forEach(function(name) {
    const value = /** @type {*} */ (contact)[name];
    if (value) {
      sent[name] = value;
    }
  });
  return sent;
}
