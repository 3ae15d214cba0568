/**
 * Forget: Extensions ▸ Pronto enrichment ▸ Forget a person… (ForgetDialog.html), the
 * right to erasure from the sheet: the function deletes every answer it keeps about one
 * person (POST /forget), of every type, and says how many.
 */

/**
 * What the dialog says of the add-in's own copy: CacheService keeps an entry 6 hours at
 * most (developers.google.com/apps-script/reference/cache/cache: expiration ≤ 21,600 s).
 */
const FORGET_CACHE_NOTE = 'This add-in also keeps answers in Apps Script\'s cache for at ' +
    'most 6 hours (Google\'s limit); they disappear by then on their own. Cells already ' +
    'written in your sheets stay: delete them yourself.';

/**
 * Menu "Forget a person…": opens the dialog.
 */
function showForgetDialog() {
  const html = page_('ForgetDialog').setWidth(460).setHeight(480);
  SpreadsheetApp.getUi().showModalDialog(html, 'Forget a person');
}

/**
 * The /forget body for what the person typed; throws a sentence when it names nobody.
 * @param {Object<string, string>} typed The dialog's fields: email, phone, linkedinUrl,
 *     firstname, lastname, domain.
 * @return {Object<string, *>} The body.
 */
function forgetBody_(typed) {
  const form = typed || {};
  /**
   * @param {string} name A field of the form.
   * @return {string} Its trimmed text ('' when empty).
   */
  function field(name) {
    return String(form[name] || '').trim();
  }
  /** @type {Object<string, *>} */
  const body = {};
  if (field('email')) body['email'] = field('email');
  if (field('phone')) body['phone'] = field('phone');
  /** @type {Object<string, string>} */
  const contact = {};
  if (field('firstname') && field('lastname') && field('domain')) {
    contact['firstname'] = field('firstname');
    contact['lastname'] = field('lastname');
    contact['domain'] = field('domain');
  }
  if (field('linkedinUrl')) contact['linkedin_url'] = field('linkedinUrl');
  if (Object.keys(contact).length) body['contact'] = contact;
  if (!Object.keys(body).length) {
    throw new Error('Type the person\'s email or phone number, their LinkedIn URL, or their ' +
        'first and last name with their company\'s website (domain).');
  }
  return body;
}

/**
 * Forget dialog "Forget": asks the function to delete every answer about the person.
 * @param {Object<string, string>} typed The dialog's fields (see forgetBody_).
 * @return {string} The sentence the dialog shows.
 */
function forgetPerson(typed) {
  const answer = callFunction_('POST', '/forget', forgetBody_(typed), {auth: 'auto'});
  const deleted = Number(answer && answer.deleted) || 0;
  const done = deleted === 0 ?
    'Nothing was kept about this person: there was nothing to delete.' :
    'Forgotten: ' + deleted + (deleted === 1 ? ' stored answer' : ' stored answers') +
      ' deleted; looking this person up again asks Pronto (and costs credits) again.';
  return done + ' ' + FORGET_CACHE_NOTE;
}
