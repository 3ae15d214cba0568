'use strict';
// The add-in's files form layers: each file uses names only from files below it, so no
// two files depend on each other (apps_script/README.md draws the layers). Apps Script
// puts every file in one global scope, so nothing but this test keeps the order.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {test} = require('node:test');
const espree = require('espree');
const {APPS_SCRIPT_DIR} = require('../support/apps_script');

/** The .js files of apps_script/, by name, with their source. */
function sources() {
  return Object.fromEntries(fs.readdirSync(APPS_SCRIPT_DIR).filter((name) => name.endsWith('.js')).sort()
      .map((name) => [name, fs.readFileSync(path.join(APPS_SCRIPT_DIR, name), 'utf8')]));
}

/** The top-level names a file defines: its functions and constants (one shared global scope). */
function definitions(source) {
  return espree.parse(source, {ecmaVersion: 2020}).body.flatMap((statement) => {
    if (statement.type === 'FunctionDeclaration') return [statement.id.name];
    if (statement.type === 'VariableDeclaration') return statement.declarations.map((d) => d.id.name);
    return [];
  });
}

/** The names a file's code uses (identifiers, not properties, object keys, strings or comments). */
function identifiers(source) {
  const tokens = espree.tokenize(source, {ecmaVersion: 2020});
  const punctuator = (token, values) => Boolean(token) && token.type === 'Punctuator' && values.includes(token.value);
  return tokens.filter((token, index) => token.type === 'Identifier' &&
      !punctuator(tokens[index - 1], ['.']) &&
      !(punctuator(tokens[index - 1], ['{', ',']) && punctuator(tokens[index + 1], [':'])))
      .map((token) => token.value);
}

/**
 * Which files each file uses: a file uses another when its code names one of the other's
 * top-level names.
 * @return {Object<string, Array<string>>} File to the files it uses.
 */
function dependencyGraph(files = sources()) {
  const owner = new Map();
  Object.entries(files).forEach(([name, source]) => definitions(source).forEach((id) => {
    assert.ok(!owner.has(id), `${id} is defined in both ${owner.get(id)} and ${name}: one global scope holds one`);
    owner.set(id, name);
  }));
  return Object.fromEntries(Object.entries(files).map(([name, source]) => {
    const used = new Set();
    for (const id of identifiers(source)) {
      const file = owner.get(id);
      if (file && file !== name) used.add(file);
    }
    return [name, [...used].sort()];
  }));
}

/** A cycle of the graph as a list of files (first = last), or null. */
function findCycle(graph) {
  const state = new Map();
  const stack = [];
  const visit = (node) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph[node] || []) {
      if (state.get(next) === 'open') return stack.slice(stack.indexOf(next)).concat([next]);
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of Object.keys(graph)) {
    if (!state.has(node)) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return null;
}

/** The largest file and the longest top-level function of apps_script/, in lines. */
function sizes(files = sources()) {
  let largest = {file: '', lines: 0};
  let longest = {name: '', file: '', lines: 0};
  Object.entries(files).forEach(([file, source]) => {
    const lines = source.replace(/\n$/, '').split('\n');
    if (file !== 'Vocabulary.js' && lines.length > largest.lines) largest = {file, lines: lines.length};
    lines.forEach((line, index) => {
      const match = /^function\s+([\w$]+)/.exec(line);
      if (!match) return;
      const end = lines.findIndex((text, at) => at > index && text === '}');
      if (end - index + 1 > longest.lines) longest = {name: match[1], file, lines: end - index + 1};
    });
  });
  return {largest, longest};
}

test('no two apps_script files depend on each other, directly or through others', (t) => {
  const graph = dependencyGraph();
  const cycle = findCycle(graph);
  assert.equal(cycle, null, `the files depend on each other in a circle: ${(cycle || []).join(' → ')}`);
  const {largest, longest} = sizes();
  t.diagnostic(`largest file ${largest.file} (${largest.lines} lines); longest function ${longest.name} in ${longest.file} (${longest.lines} lines)`);
});

/** The files in the order apps_script/README.md lists them (its numbered lines between the layer marks). */
function documentedOrder() {
  const readme = fs.readFileSync(path.join(APPS_SCRIPT_DIR, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('<!-- layers'), readme.indexOf('<!-- /layers -->'));
  return [...section.matchAll(/^\d+\. `([\w.]+\.js)`/gm)].map((match) => match[1]);
}

test('apps_script/README.md lists every file once, each using only files listed above it', () => {
  const graph = dependencyGraph();
  const order = documentedOrder();
  assert.deepEqual([...order].sort(), Object.keys(graph).sort(), 'the README lists each .js file once');
  const upward = order.flatMap((file, index) => graph[file].filter((used) => order.indexOf(used) > index)
      .map((used) => `${file} uses ${used}, listed below it`));
  assert.deepEqual(upward, []);
});

test('the cycle check finds a circle through three files, and the graph ignores names in comments', () => {
  const files = {
    'A.js': 'function a_() {\n  return b_();\n}\n',
    'B.js': '/** Calls a_ in words only. */\nfunction b_() {\n  return c_() + "d_" + x.a_ + {d_: 1}.d_;\n}\n',
    'C.js': 'function c_() {\n  return a_();\n}\n',
    'D.js': '// b_ is named here, in a comment\nfunction d_() {\n  return 1;\n}\n',
  };
  const graph = dependencyGraph(files);
  assert.deepEqual(graph, {'A.js': ['B.js'], 'B.js': ['C.js'], 'C.js': ['A.js'], 'D.js': []});
  assert.deepEqual(findCycle(graph), ['A.js', 'B.js', 'C.js', 'A.js']);
  assert.equal(findCycle({'A.js': ['B.js'], 'B.js': [], 'D.js': ['A.js']}), null);
});

test('nothing runs at the top level of a file: only functions and constants, as Apps Script loads every file first', () => {
  const statements = Object.entries(sources()).flatMap(([name, source]) => espree.parse(source, {ecmaVersion: 2020, loc: true}).body
      .filter((statement) => statement.type !== 'FunctionDeclaration' &&
          !(statement.type === 'VariableDeclaration' && statement.kind === 'const'))
      .map((statement) => `${name}:${statement.loc.start.line} ${statement.type}`));
  assert.deepEqual(statements, []);
});

test('no file keeps a Node export block: Apps Script runs every file in one global scope', () => {
  const exporting = Object.entries(sources()).filter(([, source]) => /module\.exports|typeof module/.test(source))
      .map(([name]) => name);
  assert.deepEqual(exporting, []);
});

module.exports = {dependencyGraph, findCycle, sizes};
