'use strict';
/** Deterministic contact rows for the tests (no randomness: every run sees the same sheet). */

const FIRST = ['Ada', 'Émile', 'Grace', 'Linus', 'Margaret', 'Zoé', 'Alan', 'Barbara', 'Dennis', 'Frances',
  'Hedy', 'Ken', 'Radia', 'Tim', 'Katherine', 'Guido', 'Sophie', 'Yann', 'Chloé', 'Niklaus'];
const LAST = ['Lovelace', 'Durand', 'Hopper', 'Torvalds', 'Hamilton', 'Lefèvre', 'Turing', 'Liskov',
  'Ritchie', 'Allen', 'Lamarr', 'Thompson', 'Perlman', 'Berners-Lee', 'Johnson', 'van Rossum',
  'Wilson', 'LeCun', 'Martin', 'Wirth'];

/**
 * Row i (0-based) of a contact list: distinct people, alternating a website
 * (with a dot: a domain) and a company name (no dot), each with a LinkedIn profile URL
 * (`linkedin`; `withLinkedIn` is the contact as sent when the row gives it).
 * @param {number} i The index.
 * @param {string} [tag] Makes the people of one test distinct from another's.
 * @return {{first: string, last: string, companyOrDomain: string, linkedin: string, contact: Object, withLinkedIn: Object}}
 */
function person(i, tag = 'a') {
  const first = FIRST[i % FIRST.length];
  const last = `${LAST[Math.floor(i / FIRST.length) % LAST.length]}${i >= 400 ? ` ${Math.floor(i / 400)}` : ''}`;
  const usesDomain = i % 2 === 0;
  const companyOrDomain = usesDomain ? `${tag}-company-${i}.com` : `${tag.toUpperCase()} Company ${i} SAS`;
  const contact = {firstname: first, lastname: last};
  if (usesDomain) contact.domain = companyOrDomain;
  else contact.company_name = companyOrDomain;
  const linkedin = `https://www.linkedin.com/in/${tag.toLowerCase()}-${i}/`;
  return {first, last, companyOrDomain, linkedin, contact, withLinkedIn: {...contact, linkedin_url: linkedin}};
}

/** `count` distinct people. */
function people(count, tag) {
  return Array.from({length: count}, (unused, i) => person(i, tag));
}

module.exports = {person, people};
