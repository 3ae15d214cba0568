// Lints the Apps Script sources (one shared global scope, no modules) and these tests.
import {readdirSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import js from '@eslint/js';
import globals from 'globals';

const appsScriptDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'apps_script');

/** Top-level functions and constants of every Apps Script file: one shared global scope. */
const sharedGlobals = Object.fromEntries(readdirSync(appsScriptDir)
    .filter((name) => name.endsWith('.js'))
    .flatMap((name) => [...readFileSync(join(appsScriptDir, name), 'utf8')
        .matchAll(/^(?:function\s+([A-Za-z_$][\w$]*)|const\s+([A-Za-z_$][\w$]*))/gm)]
        .map((match) => [match[1] || match[2], 'readonly'])));

/** The Google services an Apps Script project sees as globals. */
const appsScriptGlobals = Object.fromEntries([
  'CacheService', 'HtmlService', 'LockService', 'Logger', 'PropertiesService', 'ScriptApp',
  'Session', 'SpreadsheetApp', 'UrlFetchApp', 'Utilities', 'console',
].map((name) => [name, 'readonly']));

export default [
  {ignores: ['tests/apps_script/node_modules/**']},
  {
    files: ['apps_script/**/*.js'],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: 'script',
      globals: {...appsScriptGlobals, ...sharedGlobals},
    },
    rules: {
      ...js.configs.recommended.rules,
      // Top-level functions are used across files (one global scope) or by Sheets itself.
      'no-unused-vars': ['error', {vars: 'local', args: 'after-used',
        // The formulas' last argument exists only so that Pronto can change the formula
        // text (Pending.js): the formulas never read it.
        argsIgnorePattern: '^refresh$'}],
      'no-redeclare': ['error', {builtinGlobals: false}],
      'prefer-const': 'error',
      'no-var': 'error',
      'eqeqeq': ['error', 'always'],
    },
  },
  {
    // Generated from function/pronto_sheets/vocabulary.json (python -m
    // pronto_sheets_dev.vocabulary_js): JSON inside a constant, double quotes and long
    // lines as json.dumps writes them. Never edited by hand; style rules do not apply.
    files: ['apps_script/Vocabulary.js'],
    rules: {'quotes': 'off', 'max-len': 'off', 'quote-props': 'off', 'comma-dangle': 'off'},
  },
  {
    files: ['tests/apps_script/**/*.js'],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'commonjs',
      globals: {...globals.node},
    },
    rules: {
      ...js.configs.recommended.rules,
      'prefer-const': 'error',
      'no-var': 'error',
      'eqeqeq': ['error', 'always'],
    },
  },
  {
    // Browser tests pass functions to page.evaluate: they run in the page.
    files: ['tests/apps_script/browser/**/*.js'],
    languageOptions: {globals: {...globals.node, ...globals.browser}},
  },
];
