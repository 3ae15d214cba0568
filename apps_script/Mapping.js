/**
 * Mapping: the input columns picked in the sidebar for each sheet, kept in Document
 * Properties so that the schedule (and the next person opening the sidebar) uses them.
 */

/** Document property holding the column mapping picked for each sheet (by sheet id). */
const MAPPING_PROPERTY = 'PRONTO_MAPPINGS';

/**
 * The column mapping picked for a sheet in the sidebar, if any.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @return {?ColumnMapping} The mapping.
 */
function savedMapping_(sheet) {
  try {
    const all = JSON.parse(PropertiesService.getDocumentProperties().getProperty(MAPPING_PROPERTY) ||
        '{}');
    return all[String(sheet.getSheetId())] || null;
  } catch {
    return null; // A damaged value: the columns are detected from the headers again.
  }
}

/**
 * Remembers the column mapping used for a sheet (the schedule uses it).
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {ColumnMapping} mapping The mapping.
 */
function saveMapping_(sheet, mapping) {
  const properties = PropertiesService.getDocumentProperties();
  /** @type {Object<string, ColumnMapping>} */
  let all = {};
  try {
    all = JSON.parse(properties.getProperty(MAPPING_PROPERTY) || '{}');
  } catch {
    all = {}; // A damaged value is replaced by this sheet's mapping.
  }
  all[String(sheet.getSheetId())] = mapping;
  properties.setProperty(MAPPING_PROPERTY, JSON.stringify(all));
}
