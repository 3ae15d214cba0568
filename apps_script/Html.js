/**
 * Html: builds the pages (sidebar and dialogs) from their templates, which
 * share one head (Shared.html: base target, charset, common style and the
 * client helpers $, server and say).
 */

/**
 * Builds a page from its HTML file, running its scriptlets.
 * @param {string} name The HTML file's name, without ".html".
 * @return {GoogleAppsScript.HTML.HtmlOutput} The page, ready for setTitle, setWidth…
 */
function page_(name) {
  return HtmlService.createTemplateFromFile(name).evaluate();
}

/**
 * The raw content of an HTML file, for a page to print into itself with
 * <?!= include_('Shared') ?> (not run as a template: no scriptlets inside).
 * @param {string} name The HTML file's name, without ".html".
 * @return {string} The file's content.
 */
function include_(name) {
  return HtmlService.createHtmlOutputFromFile(name).getContent();
}
