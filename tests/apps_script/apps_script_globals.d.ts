// What the Apps Script files see besides the Google services: the Node export hook
// (`if (typeof module === 'object') module.exports = ...`), absent in Apps Script.
declare var module: {exports: unknown} | undefined;
