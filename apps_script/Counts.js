/**
 * Counts: the one list of what a run, a fill and the schedule's log count (rows found,
 * not found, invalid…), under one name each, with the words the sidebar and the log
 * print after the number, and how a POST /fill summary and a Pronto status cell map
 * onto them. The pages receive this list from the server (countWords_), so no page
 * spells the names again.
 */

/**
 * One count.
 * @typedef {Object} CountInfo
 * @property {string} name Its key in runs, log entries and RowsSummary.
 * @property {string} words What the sidebar prints after the number.
 * @property {string} brief What the schedule's log prints after the number ('' when the log leaves it out).
 * @property {string} fill The field of a POST /fill summary holding it ('' when /fill has none).
 * @property {string} status The Pronto status code a row counted under it shows ('' when none).
 */

/** @type {Array<CountInfo>} The counts, in the order people read them. */
const COUNTS = [
  // The async lane (a /fill summary with lane "async"): requests sent to Pronto this run.
  {name: 'submitted', words: 'sent to Pronto', brief: 'sent to Pronto', fill: 'submitted',
    status: ''},
  {name: 'found', words: 'found', brief: 'found', fill: 'found', status: 'success'},
  {name: 'notFound', words: 'not found', brief: 'not found', fill: 'not_found', status: 'not_found'},
  // The async lane: rows whose answer is on its way; a later /fill writes them, unpaid again.
  {name: 'waiting', words: 'waiting for Pronto', brief: 'waiting for Pronto', fill: 'waiting',
    status: ''},
  {name: 'invalid', words: 'invalid (see Pronto status)', brief: 'invalid', fill: 'invalid',
    status: 'invalid'},
  {name: 'needsLinkedin', words: 'need a LinkedIn URL', brief: 'need a LinkedIn URL',
    fill: 'needs_linkedin', status: ''},
  {name: 'paused', words: 'waiting for consent', brief: 'waiting for consent', fill: '', status: ''},
  {name: 'pending', words: 'still searching', brief: 'still searching', fill: '', status: 'pending'},
  {name: 'failed', words: 'failed (try again later)', brief: 'failed', fill: 'failed',
    status: 'failed'},
  {name: 'overBudget', words: 'over the credit budget', brief: 'over budget', fill: 'over_budget',
    status: 'over_budget'},
  {name: 'changed', words: 'edited meanwhile and left alone', brief: '', fill: 'changed_during_run',
    status: ''},
  {name: 'filled', words: 'already filled', brief: '', fill: 'skipped_filled', status: ''},
  {name: 'duplicates', words: 'duplicates (paid once)', brief: '', fill: 'duplicates', status: ''},
];

/**
 * Every count at zero.
 * @return {Object<string, number>} The counts by name.
 */
function emptyCounts_() {
  /** @type {Object<string, number>} */
  const counts = {};
  COUNTS.forEach(function(count) {
    counts[count.name] = 0;
  });
  return counts;
}

/**
 * Adds the counts of `more` (a RowsSummary, or counts) to `totals`, in place.
 * @param {Object<string, number>} totals The counts added to.
 * @param {*} more Anything holding counts by name.
 * @param {Array<string>} [except] Names not to add.
 */
function addCounts_(totals, more, except) {
  COUNTS.forEach(function(count) {
    if (!except || except.indexOf(count.name) === -1) {
      totals[count.name] = (totals[count.name] || 0) + (Number(more[count.name]) || 0);
    }
  });
}

/**
 * The counts a POST /fill summary holds.
 * @param {*} summary The summary.
 * @return {Object<string, number>} The counts by name (0 for those /fill does not give).
 */
function countsOfFill_(summary) {
  const counts = emptyCounts_();
  COUNTS.forEach(function(count) {
    if (count.fill) {
      counts[count.name] = Number(summary && summary[count.fill]) || 0;
    }
  });
  return counts;
}

/**
 * The count a Pronto status code falls under ('' when none does).
 * @param {string} code A status code.
 * @return {string} The count's name.
 */
function countOfStatus_(code) {
  const found = COUNTS.filter(function(count) {
    return count.status && count.status === code;
  })[0];
  return found ? found.name : '';
}

/**
 * What the pages print after each number: [name, sidebar words, log words].
 * @return {Array<Array<string>>} The words, in reading order.
 */
function countWords_() {
  return COUNTS.map(function(count) {
    return [count.name, count.words, count.brief];
  });
}

/**
 * A whole number with thousands separators, as people read it ("12,345").
 * @param {number} n The number.
 * @return {string} The text.
 */
function formatCount_(n) {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
