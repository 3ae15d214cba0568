'use strict';
/**
 * A fake of SpreadsheetApp with the behaviours the Apps Script code depends on:
 * ranges with values and formulas, Sheets' parsing of written strings (a leading
 * "=" makes a formula, "+336…" becomes a number, a leading apostrophe keeps text),
 * the sheet's dimensions (ranges outside them throw), the selection, the UI
 * (menus, sidebars, dialogs, alerts, toasts) and read-only access inside custom
 * functions.
 */

const OUT_OF_BOUNDS = 'Exception: The coordinates of the range are outside the dimensions of the sheet.';

/** Turns column letters into a 1-based number. */
function columnNumber(letters) {
  return letters.toUpperCase().split('').reduce((total, letter) => total * 26 + letter.charCodeAt(0) - 64, 0);
}

/** Turns a 1-based column number into letters. */
function columnLetters(number) {
  let letters = '';
  let n = number;
  while (n > 0) {
    const rest = (n - 1) % 26;
    letters = String.fromCharCode(65 + rest) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/**
 * Parses "A2:C10", "A2", "A:A" or "'My sheet'!A2:B3".
 * @return {{sheet: ?string, row: number, column: number, lastRow: ?number, lastColumn: number}}
 */
function parseA1(a1) {
  const match = /^(?:(?:'((?:[^']|'')+)'|([^!]+))!)?\$?([A-Za-z]+)\$?(\d+)?(?::\$?([A-Za-z]+)\$?(\d+)?)?$/.exec(a1.trim());
  if (!match) throw new Error(`Exception: Range not found: ${a1}`);
  const sheet = match[1] ? match[1].replace(/''/g, "'") : match[2] || null;
  const column = columnNumber(match[3]);
  const row = match[4] ? Number(match[4]) : 1;
  const lastColumn = match[5] ? columnNumber(match[5]) : column;
  let lastRow;
  if (match[5]) lastRow = match[6] ? Number(match[6]) : null;
  else lastRow = match[4] ? row : null;
  return {sheet, row, column, lastRow, lastColumn};
}

/** What Sheets stores when a script writes `value` with setValue(s). */
function parseWritten(value) {
  if (value === null || value === undefined) return {v: ''};
  if (typeof value !== 'string') return {v: value};
  if (value.startsWith("'")) return {v: value.slice(1)};
  if (value.startsWith('=') && value.length > 1) return {v: '', f: value};
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) return {v: Number(value)};
  if (/^(true|false)$/i.test(value.trim())) return {v: value.trim().toLowerCase() === 'true'};
  return {v: value};
}

class FakeRange {
  constructor(sheet, row, column, numRows, numColumns) {
    if (row < 1 || column < 1 || numRows < 1 || numColumns < 1 ||
        row + numRows - 1 > sheet.maxRows || column + numColumns - 1 > sheet.maxColumns) {
      throw new Error(OUT_OF_BOUNDS);
    }
    this.sheet = sheet;
    this.row = row;
    this.column = column;
    this.numRows = numRows;
    this.numColumns = numColumns;
  }

  getSheet() { return this.sheet; }
  getCell(row, column) {
    if (row < 1 || column < 1 || row > this.numRows || column > this.numColumns) throw new Error('Exception: Cell reference out of range');
    return new FakeRange(this.sheet, this.row + row - 1, this.column + column - 1, 1, 1);
  }
  getRow() { return this.row; }
  getColumn() { return this.column; }
  getLastRow() { return this.row + this.numRows - 1; }
  getLastColumn() { return this.column + this.numColumns - 1; }
  getNumRows() { return this.numRows; }
  getNumColumns() { return this.numColumns; }

  getA1Notation() {
    const start = columnLetters(this.column) + this.row;
    if (this.numRows === 1 && this.numColumns === 1) return start;
    return `${start}:${columnLetters(this.getLastColumn())}${this.getLastRow()}`;
  }

  map(fn) {
    const out = [];
    for (let r = 0; r < this.numRows; r++) {
      const line = [];
      for (let c = 0; c < this.numColumns; c++) line.push(fn(this.sheet.cell(this.row + r, this.column + c)));
      out.push(line);
    }
    return out;
  }

  getValues() {
    this.sheet.spreadsheet.counters.reads++;
    return this.map((cell) => (cell ? cell.v : ''));
  }
  getValue() { return this.getValues()[0][0]; }
  getDisplayValues() { return this.map((cell) => (cell ? String(cell.v) : '')); }
  getFormulas() { return this.map((cell) => (cell && cell.f ? cell.f : '')); }
  getFormula() { return this.getFormulas()[0][0]; }

  checkShape(values, what) {
    if (!Array.isArray(values) || values.length !== this.numRows) {
      throw new Error(`Exception: The number of rows in the data does not match the number of rows in the range. The data has ${Array.isArray(values) ? values.length : 0} but the range has ${this.numRows}.`);
    }
    values.forEach((line) => {
      if (!Array.isArray(line) || line.length !== this.numColumns) {
        throw new Error(`Exception: The number of columns in the data does not match the number of columns in the range. The data has ${Array.isArray(line) ? line.length : 0} but the range has ${this.numColumns}.`);
      }
    });
    this.sheet.spreadsheet.checkWritable(what);
  }

  setValues(values) {
    this.checkShape(values, 'setValues');
    this.sheet.spreadsheet.counters.writes++;
    values.forEach((line, r) => line.forEach((value, c) => {
      this.sheet.enter(this.row + r, this.column + c, parseWritten(value));
    }));
    return this;
  }
  setValue(value) { return this.setValues([[value]]); }

  setFormulas(formulas) {
    this.checkShape(formulas, 'setFormulas');
    this.sheet.spreadsheet.counters.writes++;
    formulas.forEach((line, r) => line.forEach((formula, c) => {
      this.sheet.enter(this.row + r, this.column + c, formula ? {v: '', f: formula} : {v: ''});
    }));
    return this;
  }
  setFormula(formula) { return this.setFormulas([[formula]]); }

  clearContent() {
    this.sheet.spreadsheet.checkWritable('clearContent');
    for (let r = 0; r < this.numRows; r++) {
      for (let c = 0; c < this.numColumns; c++) this.sheet.enter(this.row + r, this.column + c, {v: ''});
    }
    return this;
  }

  activate() {
    this.sheet.spreadsheet.activeSheet = this.sheet;
    this.sheet.activeRange = this;
    return this;
  }
}

class FakeSheet {
  constructor(spreadsheet, name, id, {maxRows = 1000, maxColumns = 26} = {}) {
    this.spreadsheet = spreadsheet;
    this.name = name;
    this.id = id;
    this.maxRows = maxRows;
    this.maxColumns = maxColumns;
    this.rows = [];
    this.activeRange = null;
  }

  cell(row, column) {
    const line = this.rows[row - 1];
    return line ? line[column - 1] : undefined;
  }

  put(row, column, cell) {
    while (this.rows.length < row) this.rows.push([]);
    this.rows[row - 1][column - 1] = cell;
  }

  /**
   * What a script writing a cell does: a formula written replaces the cell's old
   * answer (and the cells it spilled into) and is calculated again once the
   * script's execution ends, as typing the formula would; plain values just land.
   */
  enter(row, column, cell) {
    this.clearSpill(row, column);
    this.put(row, column, cell);
    if (cell.f) this.spreadsheet.dirty.push({sheet: this, row, column});
  }

  /** Empties the cells a formula at (row, column) spilled into, as Sheets does when it changes. */
  clearSpill(row, column) {
    const anchor = this.cell(row, column);
    if (!anchor || !anchor.spill) return;
    const {rows, columns} = anchor.spill;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        if (r || c) this.put(row + r, column + c, {v: ''});
      }
    }
    delete anchor.spill;
  }

  getName() { return this.name; }
  getSheetId() { return this.id; }
  getParent() { return this.spreadsheet; }
  getMaxRows() { return this.maxRows; }
  getMaxColumns() { return this.maxColumns; }

  filled(cell) { return cell && (cell.f || (cell.v !== '' && cell.v !== null && cell.v !== undefined)); }

  getLastRow() {
    for (let r = this.rows.length; r >= 1; r--) {
      if ((this.rows[r - 1] || []).some((cell) => this.filled(cell))) return r;
    }
    return 0;
  }

  getLastColumn() {
    let last = 0;
    this.rows.forEach((line) => (line || []).forEach((cell, c) => {
      if (this.filled(cell)) last = Math.max(last, c + 1);
    }));
    return last;
  }

  insertColumnsAfter(afterPosition, howMany) {
    this.spreadsheet.checkWritable('insertColumnsAfter');
    if (afterPosition !== this.maxColumns) throw new Error('fake: only appending columns is modelled');
    this.maxColumns += howMany;
    return this;
  }

  insertRowsAfter(afterPosition, howMany) {
    this.spreadsheet.checkWritable('insertRowsAfter');
    if (afterPosition !== this.maxRows) throw new Error('fake: only appending rows is modelled');
    this.maxRows += howMany;
    return this;
  }

  getRange(rowOrA1, column, numRows, numColumns) {
    if (typeof rowOrA1 === 'string') {
      const a1 = parseA1(rowOrA1);
      const lastRow = a1.lastRow === null ? this.maxRows : a1.lastRow;
      return new FakeRange(this, a1.row, a1.column, lastRow - a1.row + 1, a1.lastColumn - a1.column + 1);
    }
    return new FakeRange(this, rowOrA1, column, numRows === undefined ? 1 : numRows,
        numColumns === undefined ? 1 : numColumns);
  }

  getDataRange() {
    return new FakeRange(this, 1, 1, Math.max(this.getLastRow(), 1), Math.max(this.getLastColumn(), 1));
  }

  getActiveRange() { return this.activeRange; }

  setActiveSelection(a1OrRange) {
    const range = typeof a1OrRange === 'string' ? this.getRange(a1OrRange) : a1OrRange;
    return range.activate();
  }

  activate() {
    this.spreadsheet.activeSheet = this;
    return this;
  }

  // Test helpers (not Apps Script API).
  /** Writes values as a person typing them would (no script rules apply). */
  load(rows, startRow = 1) {
    rows.forEach((line, r) => line.forEach((value, c) => {
      this.put(startRow + r, c + 1, value === null || value === undefined ? {v: ''} : {v: value});
    }));
    return this;
  }

  /** All values as a grid of lastRow × lastColumn. */
  dump() {
    const out = [];
    for (let r = 1; r <= this.getLastRow(); r++) {
      const line = [];
      for (let c = 1; c <= this.getLastColumn(); c++) {
        const cell = this.cell(r, c);
        line.push(cell ? cell.v : '');
      }
      out.push(line);
    }
    return out;
  }

  /** The value of one cell by A1 notation. */
  value(a1) {
    const {row, column} = parseA1(a1);
    const cell = this.cell(row, column);
    return cell ? cell.v : '';
  }
}

class FakeUi {
  constructor(addonName) {
    // An add-on's menu is titled with its name; a bound script's with the project's name.
    this.addonName = addonName || 'Untitled project';
    this.menus = [];
    this.shown = [];
    this.alerts = [];
    this.alertAnswers = [];
    this.ButtonSet = Object.freeze({OK: 'OK', OK_CANCEL: 'OK_CANCEL', YES_NO: 'YES_NO', YES_NO_CANCEL: 'YES_NO_CANCEL'});
    this.Button = Object.freeze({OK: 'OK', CANCEL: 'CANCEL', YES: 'YES', NO: 'NO', CLOSE: 'CLOSE'});
  }

  createMenu(caption) {
    const ui = this;
    const menu = {
      caption,
      items: [],
      addItem(label, functionName) { this.items.push({label, functionName}); return this; },
      addSeparator() { this.items.push({separator: true}); return this; },
      addSubMenu(sub) { this.items.push({submenu: sub}); return this; },
      addToUi() { ui.menus.push(this); },
    };
    return menu;
  }

  /** Extensions ▸ <add-on or project name> ▸ items. */
  createAddonMenu() {
    const menu = this.createMenu(this.addonName);
    menu.addon = true;
    return menu;
  }

  showSidebar(html) { this.shown.push({kind: 'sidebar', html}); }
  showModalDialog(html, title) { this.shown.push({kind: 'modal', html, title}); }
  showModelessDialog(html, title) { this.shown.push({kind: 'modeless', html, title}); }

  alert(...args) {
    const [title, prompt, buttons] = args.length >= 2 ? args : [null, args[0], args[1]];
    this.alerts.push({title, prompt, buttons: buttons || 'OK'});
    return this.alertAnswers.length ? this.alertAnswers.shift() : (buttons === 'YES_NO' ? 'YES' : 'OK');
  }
}

class FakeSpreadsheet {
  constructor({id = '1FakeSpreadsheetId0123456789abcdefghijkl', name = 'Contacts', execution, timeZone = 'Etc/UTC', addonName = null}) {
    this.id = id;
    this.name = name;
    this.timeZone = timeZone;
    this.sheets = [];
    this.activeSheet = null;
    this.toasts = [];
    this.ui = new FakeUi(addonName);
    this.execution = execution;
    this.counters = {reads: 0, writes: 0, flushes: 0};
    /** Formula cells written by a script, calculated when its execution ends. */
    this.dirty = [];
    /** Set when a script writes: the harness copies the sheets to the Sheets emulator when linked. */
    this.written = false;
  }

  checkWritable(what) {
    if (this.execution().kind === 'custom') {
      throw new Error(`Exception: You do not have permission to call ${what}`);
    }
    this.written = true;
  }

  insertSheet(name, options) {
    const sheet = new FakeSheet(this, name || `Sheet${this.sheets.length + 1}`, this.sheets.length, options);
    this.sheets.push(sheet);
    if (!this.activeSheet) this.activeSheet = sheet;
    return sheet;
  }

  getId() { return this.id; }
  getName() { return this.name; }
  getUrl() { return `https://docs.google.com/spreadsheets/d/${this.id}/edit`; }
  getSheets() { return this.sheets.slice(); }
  getSheetByName(name) { return this.sheets.find((sheet) => sheet.name === name) || null; }
  getActiveSheet() { return this.activeSheet; }
  setActiveSheet(sheet) { this.activeSheet = sheet; return sheet; }
  getActiveRange() {
    // developers.google.com/apps-script/guides/sheets/functions: in a custom function the
    // active range is the cell that calls it.
    const calling = this.execution().callingCell;
    if (calling) return calling.sheet.getRange(calling.row, calling.column);
    return this.activeSheet ? this.activeSheet.activeRange : null;
  }
  getSpreadsheetTimeZone() { return this.timeZone; }
  toast(message, title, timeoutSeconds) { this.toasts.push({message, title, timeoutSeconds}); }

  getRange(a1) {
    const parsed = parseA1(a1);
    const sheet = parsed.sheet ? this.getSheetByName(parsed.sheet) : this.activeSheet;
    if (!sheet) throw new Error(`Exception: Range not found: ${a1}`);
    return sheet.getRange(a1.includes('!') ? a1.slice(a1.lastIndexOf('!') + 1) : a1);
  }
}

/** The SpreadsheetApp global, bound to one spreadsheet. */
function makeSpreadsheetApp(spreadsheet) {
  return {
    getActiveSpreadsheet: () => spreadsheet,
    getActive: () => spreadsheet,
    getActiveSheet: () => {
      const calling = spreadsheet.execution().callingCell;
      return calling ? calling.sheet : spreadsheet.getActiveSheet();
    },
    getActiveRange: () => spreadsheet.getActiveRange(),
    getUi: () => {
      const kind = spreadsheet.execution().kind;
      if (kind === 'custom' || kind === 'trigger') {
        throw new Error('Exception: Cannot call SpreadsheetApp.getUi() from this context.');
      }
      return spreadsheet.ui;
    },
    flush: () => { spreadsheet.counters.flushes++; },
    openById: () => {
      throw new Error('Exception: You do not have permission to call SpreadsheetApp.openById (spreadsheets.currentonly).');
    },
  };
}

module.exports = {FakeSpreadsheet, FakeSheet, FakeRange, makeSpreadsheetApp, parseA1, columnLetters, columnNumber, parseWritten};
