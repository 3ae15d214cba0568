/**
 * Vocabulary: GENERATED from function/pronto_sheets/vocabulary.json by
 * `python -m pronto_sheets_dev.vocabulary_js`. Do not edit: change the JSON file
 * and run the command (a test fails while this file is stale).
 *
 * The sheet vocabulary the add-in shares with the function: enrichment types and
 * their columns, status codes, header synonyms, output headers, messages, the done
 * rule's data and how a contact's identity is folded.
 */

/** @type {*} */
const VOCABULARY = Object.freeze({
  "_comment": "The sheet vocabulary shared by the function (Python reads this file) and the add-in (apps_script/Vocabulary.js is generated from it: python -m pronto_sheets_dev.vocabulary_js). Change it here only.",
  "version": 2,
  "enrichment_types": [
    {
      "name": "email",
      "label": "Email",
      "needs_linkedin": false,
      "credits_setting": "PRONTO_CREDITS_PER_EMAIL",
      "default_credits": 3,
      "data_column": "email",
      "status_column": "email_status"
    },
    {
      "name": "phone",
      "label": "Phone",
      "needs_linkedin": true,
      "credits_setting": "PRONTO_CREDITS_PER_PHONE",
      "default_credits": 30,
      "data_column": "phone",
      "status_column": "phone_status"
    },
    {
      "name": "personal_email",
      "label": "Personal email",
      "needs_linkedin": true,
      "credits_setting": "PRONTO_CREDITS_PER_PERSONAL_EMAIL",
      "default_credits": 30,
      "data_column": "personal_email",
      "status_column": "personal_email_status"
    }
  ],
  "statuses": {
    "success": {
      "answer": true,
      "found": true,
      "meaning": "Pronto found it."
    },
    "not_found": {
      "answer": true,
      "found": false,
      "meaning": "Pronto answered: nothing found."
    },
    "invalid": {
      "answer": false,
      "found": false,
      "meaning": "The row lacks what Pronto needs; the message says what to add."
    },
    "needs_linkedin": {
      "answer": false,
      "found": false,
      "row_status": "invalid",
      "meaning": "This type needs a LinkedIn URL; the other types of the row still go."
    },
    "paused": {
      "answer": false,
      "found": false,
      "row_status": "failed",
      "meaning": "Personal email lookups wait for the account's consent in Pronto's settings."
    },
    "pending": {
      "answer": false,
      "found": false,
      "meaning": "Not done yet; the lookup goes on and its answer is kept."
    },
    "failed": {
      "answer": false,
      "found": false,
      "meaning": "Pronto kept failing after retries; run again later."
    },
    "over_budget": {
      "answer": false,
      "found": false,
      "meaning": "The daily credit budget (ours or Pronto's) is reached; run again tomorrow."
    }
  },
  "row_status_precedence": [
    "over_budget",
    "failed",
    "pending",
    "success",
    "not_found",
    "invalid"
  ],
  "output_columns": [
    {
      "field": "email",
      "header": "Email",
      "type": "email",
      "kind": "data"
    },
    {
      "field": "email_status",
      "header": "Email status",
      "type": "email",
      "kind": "status"
    },
    {
      "field": "phone",
      "header": "Phone",
      "type": "phone",
      "kind": "data"
    },
    {
      "field": "phone_status",
      "header": "Phone status",
      "type": "phone",
      "kind": "status"
    },
    {
      "field": "personal_email",
      "header": "Personal email",
      "type": "personal_email",
      "kind": "data"
    },
    {
      "field": "personal_email_status",
      "header": "Personal email status",
      "type": "personal_email",
      "kind": "status"
    },
    {
      "field": "pronto_status",
      "header": "Pronto status",
      "type": null,
      "kind": "row_status"
    }
  ],
  "sheet_cells": {
    "status_separator": ": ",
    "phone_separator": ", ",
    "not_found_text": "not_found",
    "done_status_codes": [
      "not_found"
    ]
  },
  "input_fields": [
    "firstname",
    "lastname",
    "full_name",
    "company_name",
    "domain",
    "linkedin_url"
  ],
  "header_anchors": [
    "company_name",
    "domain",
    "linkedin_url"
  ],
  "header_scan_rows": 10,
  "header_synonyms": {
    "firstname": [
      "first name",
      "firstname",
      "first",
      "given name",
      "forename",
      "prénom",
      "nombre",
      "nombre de pila",
      "vorname",
      "rufname"
    ],
    "lastname": [
      "last name",
      "lastname",
      "last",
      "surname",
      "family name",
      "nom",
      "nom de famille",
      "apellido",
      "apellidos",
      "primer apellido",
      "nachname",
      "familienname"
    ],
    "full_name": [
      "full name",
      "name",
      "contact name",
      "nom complet",
      "nom et prénom",
      "prénom et nom",
      "nombre completo",
      "nombre y apellidos",
      "vollständiger name",
      "vor- und nachname"
    ],
    "company_name": [
      "company",
      "company name",
      "organisation",
      "organization",
      "employer",
      "account",
      "account name",
      "société",
      "entreprise",
      "nom de l'entreprise",
      "employeur",
      "empresa",
      "compañía",
      "nombre de la empresa",
      "organización",
      "firma",
      "unternehmen",
      "firmenname",
      "arbeitgeber"
    ],
    "domain": [
      "domain",
      "website",
      "company website",
      "company domain",
      "company url",
      "url",
      "site",
      "web",
      "company or website",
      "company or domain",
      "website or company",
      "site web",
      "site internet",
      "domaine",
      "société ou site",
      "entreprise ou site",
      "sitio web",
      "dominio",
      "página web",
      "webseite",
      "internetseite",
      "homepage"
    ],
    "linkedin_url": [
      "linkedin",
      "linkedin url",
      "linkedin profile",
      "linkedin profile url",
      "profile",
      "profile url",
      "profil linkedin",
      "profil",
      "url linkedin",
      "lien linkedin",
      "perfil de linkedin",
      "perfil",
      "url de linkedin",
      "linkedin-profil",
      "linkedin profil url"
    ],
    "email": [
      "email",
      "e-mail",
      "email address",
      "work email",
      "professional email",
      "adresse email",
      "adresse e-mail",
      "courriel",
      "email professionnel",
      "correo",
      "correo electrónico",
      "email de trabajo",
      "e-mail-adresse",
      "geschäftliche e-mail"
    ],
    "email_status": [
      "email status",
      "e-mail status",
      "statut email",
      "statut e-mail",
      "statut courriel",
      "estado del correo",
      "estado del email",
      "e-mail-status"
    ],
    "phone": [
      "phone",
      "phone number",
      "telephone",
      "mobile phone",
      "téléphone",
      "numéro de téléphone",
      "teléfono",
      "número de teléfono",
      "telefon",
      "telefonnummer"
    ],
    "phone_status": [
      "phone status",
      "statut téléphone",
      "statut du téléphone",
      "estado del teléfono",
      "telefonstatus"
    ],
    "personal_email": [
      "personal email",
      "personal e-mail",
      "private email",
      "email personnel",
      "e-mail personnel",
      "courriel personnel",
      "correo personal",
      "email personal",
      "private e-mail",
      "persönliche e-mail"
    ],
    "personal_email_status": [
      "personal email status",
      "personal e-mail status",
      "statut email personnel",
      "statut e-mail personnel",
      "estado del correo personal",
      "status private e-mail",
      "status persönliche e-mail"
    ],
    "pronto_status": [
      "pronto status",
      "status pronto",
      "statut pronto",
      "estado pronto",
      "estado de pronto",
      "pronto-status"
    ]
  },
  "column_override_keys": {
    "firstname": "firstname",
    "first_name": "firstname",
    "lastname": "lastname",
    "last_name": "lastname",
    "full_name": "full_name",
    "fullname": "full_name",
    "name": "full_name",
    "company_name": "company_name",
    "company": "company_name",
    "domain": "domain",
    "website": "domain",
    "linkedin_url": "linkedin_url",
    "linkedin": "linkedin_url",
    "email": "email",
    "email_status": "email_status",
    "phone": "phone",
    "phone_status": "phone_status",
    "personal_email": "personal_email",
    "personal_email_status": "personal_email_status",
    "pronto_status": "pronto_status"
  },
  "identity": {
    "_comment": "Two rows are one contact when these folded fields agree. Names and company: Unicode NFKD, accents (combining marks) dropped, case folded, spaces collapsed, so Zoé = ZOE = zoe. Domain: the bare host (scheme, user, port, path, www. and trailing dot dropped). LinkedIn: https://www.linkedin.com/in/<slug>/ (or /pub/), lower case.",
    "version": 2,
    "fields": [
      "firstname",
      "lastname",
      "company_name",
      "domain",
      "linkedin_url"
    ],
    "drop_accents": true,
    "fold_case": true,
    "domain_drop_prefixes": [
      "www."
    ],
    "linkedin_host_suffix": "linkedin.com",
    "linkedin_path_prefixes": [
      "/in/",
      "/pub/"
    ],
    "linkedin_canonical": "https://www.linkedin.com{path}/"
  },
  "messages": {
    "missing_names": "Add the {fields} to this row.",
    "missing_name_first": "first name",
    "missing_name_last": "last name",
    "missing_name_joiner": " and ",
    "missing_anchor": "Add a company name, a company website or a LinkedIn URL to this row.",
    "needs_linkedin": {
      "phone": "Add a LinkedIn URL to look up a phone.",
      "personal_email": "Add a LinkedIn URL to look up a personal email."
    },
    "paused_consent": "Personal emails are paused: accept personal email enrichment in your Pronto account settings.",
    "consent_notice": "Pronto refuses personal email lookups for this account until its owner accepts the terms for personal email enrichment in Pronto's account settings (app.prontohq.com, Settings). Personal emails wait until then; emails and phones go on.",
    "pending": "Still searching: Pronto is taking a while. The answer is kept; look again in a minute at no cost.",
    "not_found": "Nothing found."
  }
});
