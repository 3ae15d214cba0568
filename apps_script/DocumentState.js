/**
 * The add-in's own state kept in this spreadsheet's Document Properties as JSON: the run
 * (Runs.js), the Pronto timer (Timer.js), the schedule (Schedule.js). Every editor's
 * executions see the same values, which is why they live here and not in User Properties.
 */

/**
 * A saved value.
 * @param {string} key The property.
 * @return {*} The value, or null when there is none or it cannot be read (a damaged value
 *     counts as none: the caller starts afresh rather than failing every execution).
 */
function readDocumentState_(key) {
  const text = PropertiesService.getDocumentProperties().getProperty(key);
  if (!text) {
    return null;
  }
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Saves a value.
 * @param {string} key The property.
 * @param {*} value Anything JSON can hold.
 */
function writeDocumentState_(key, value) {
  PropertiesService.getDocumentProperties().setProperty(key, JSON.stringify(value));
}
