/**
 * Chunks: the one loop that enriches a stretch of rows chunk by chunk (Rows.js does
 * a chunk), adding up the counts, notices and credit figures, and stopping at the
 * first chunk over the credit budget or refused for good. Sidebar runs (ChunkedRun.js,
 * a chunk per step) and the scheduled refresh (Schedule.js, chunks until its deadline)
 * both use it.
 */

/**
 * A stretch of rows enriched chunk by chunk, and what it did so far.
 * @typedef {Object} ChunkJob
 * @property {SheetTable} table The table.
 * @property {Array<string>} types The types asked.
 * @property {number} nextRow The next row a chunk starts at (moved on by each chunk).
 * @property {number} lastRow The last row of the stretch.
 * @property {number} chunkRows Rows per chunk.
 * @property {{priority: string, timeoutS: number}} ask How to ask the function.
 * @property {Object<string, number>} totals Counts by name (COUNTS), added to.
 * @property {Object<string, string>} notices Account-level notices by code, added to.
 * @property {Array<number>} pendingRows Rows Pronto was still searching, added to.
 * @property {?number} creditsSpentToday The function's figure after the last chunk.
 * @property {?number} creditBudget The function's daily budget.
 */

/**
 * Why a stretch stopped before its end.
 * @typedef {Object} ChunkStop
 * @property {boolean} overBudget Whether the daily credit budget ran out.
 * @property {number} waiting Rows left for tomorrow (over budget).
 * @property {string} message What stopped it otherwise (a rejected key…).
 */

/**
 * A new job over rows firstRow..lastRow.
 * @param {SheetTable} table The table.
 * @param {Array<string>} types The types asked.
 * @param {number} firstRow The first row.
 * @param {number} lastRow The last row.
 * @param {{chunkRows: number, priority: string, timeoutS: number}} how Chunk size and how to ask.
 * @param {Object<string, number>} [totals] Counts to add to (default: new ones at zero).
 * @return {ChunkJob} The job.
 */
function chunkJob_(table, types, firstRow, lastRow, how, totals) {
  return {
    table: table, types: types, nextRow: firstRow, lastRow: lastRow, chunkRows: how.chunkRows,
    ask: {priority: how.priority, timeoutS: how.timeoutS}, totals: totals || emptyCounts_(),
    notices: {}, pendingRows: [], creditsSpentToday: null, creditBudget: null,
  };
}

/**
 * Enriches the job's rows chunk by chunk while `goOn()` says so and rows are left.
 * @param {ChunkJob} job The job (moved on in place).
 * @param {function(): boolean} goOn Asked before each chunk (a deadline, a count).
 * @param {function(ChunkJob): void} [afterChunk] Called after each chunk (to save progress).
 * @return {?ChunkStop} Why it stopped early, or null (end reached, or goOn said no).
 */
function runChunks_(job, goOn, afterChunk) {
  while (job.nextRow <= job.lastRow && goOn()) {
    const last = Math.min(job.nextRow + job.chunkRows - 1, job.lastRow);
    const summary = enrichRows_(job.table, job.nextRow, last, job.types, job.ask);
    addCounts_(job.totals, summary);
    Object.assign(job.notices, summary.notices);
    summary.pendingRows.forEach(function(row) {
      job.pendingRows.push(row);
    });
    if (summary.creditsSpentToday !== null && summary.creditsSpentToday !== undefined) {
      job.creditsSpentToday = summary.creditsSpentToday;
      job.creditBudget = summary.creditBudget;
    }
    job.nextRow = last + 1;
    if (afterChunk) {
      afterChunk(job);
    }
    if (summary.overBudget) {
      return {overBudget: true, message: '', waiting: summary.overBudget +
        rowsToEnrich_(job.table, job.nextRow, job.lastRow, job.types)};
    }
    if (summary.stop) {
      return {overBudget: false, message: summary.stop, waiting: 0};
    }
  }
  return null;
}

/**
 * Rows with a contact and a type still to do, between two rows.
 * @param {SheetTable} table The table.
 * @param {number} firstRow The first row.
 * @param {number} lastRow The last row.
 * @param {Array<string>} types The types requested.
 * @return {number} How many.
 */
function rowsToEnrich_(table, firstRow, lastRow, types) {
  return readRows_(table, firstRow, lastRow, types).filter(function(state) {
    return state.entry.valid && state.todo.length > 0;
  }).length;
}
