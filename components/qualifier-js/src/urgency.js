// The urgency qualifier's logic: plain JavaScript, no host import.
//
// A message whose subject says it is urgent ("urgent", "ASAP", "au plus vite"...)
// gets its importance raised a little — but only when it comes from one of the
// user's contacts: urgency is the oldest trick of spam and phishing, so words from
// strangers change nothing (the rule still says what it saw). `app.js` asks the
// host about the sender and calls `qualify`; `node --test` tests this module
// without WebAssembly.
//
// | rule | contribution | fires when |
// |---|---|---|
// | `URGENT_SUBJECT` | `steps` (1) | urgent words in the subject, the From address is a known contact, not spam |
// | `URGENT_UNKNOWN_SENDER` | 0 | urgent words, but the sender is not a contact (or the lookup failed) |
// | `URGENT_SPAM` | 0 | urgent words in a message an earlier qualifier called spam |
//
// The level becomes min(current + steps, `max_level`) and never goes down.
// Config keys: `steps` (1), `max_level` (8), `extra_words` (comma-separated words
// or phrases added to the built-in list).

/** Words and phrases of urgency, lower case, English and French. */
export const URGENT_WORDS = [
  'urgent',
  'urgently',
  'urgence',
  'asap',
  'as soon as possible',
  'immediately',
  'time sensitive',
  'action required',
  'au plus vite',
  'dès que possible',
  'immédiatement',
  'très important',
];

export const DEFAULTS = Object.freeze({ steps: 1, maxLevel: 8 });

/** Reads the settings through `get` (the `config` interface in the component). */
export function settingsFromConfig(get) {
  const warnings = [];
  const int = (key, fallback, min, max) => {
    const raw = get(key);
    if (raw === undefined || raw === null) return fallback;
    const value = Number(raw.trim());
    if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
      warnings.push(`config \`${key}\` = \`${raw}\` is not a whole number in ${min}..${max}: using ${fallback}`);
      return fallback;
    }
    return value;
  };
  const steps = int('steps', DEFAULTS.steps, 0, 10);
  const maxLevel = int('max_level', DEFAULTS.maxLevel, -10, 10);
  const extra = (get('extra_words') ?? '')
    .split(',')
    .map((w) => words(w).join(' '))
    .filter((w) => w !== '');
  return { steps, maxLevel, words: [...URGENT_WORDS, ...extra], warnings };
}

/** The words of `text`, lower case: runs of letters and digits. */
export function words(text) {
  const out = [];
  let current = '';
  for (const ch of text.toLowerCase()) {
    // A letter has case (this works without Unicode property tables), or is a digit.
    const isWordChar = ch.toUpperCase() !== ch.toLowerCase() || (ch >= '0' && ch <= '9');
    if (isWordChar) {
      current += ch;
    } else if (current !== '') {
      out.push(current);
      current = '';
    }
  }
  if (current !== '') out.push(current);
  return out;
}

/** The urgent words or phrases `subject` contains, whole words only, in list order. */
export function urgentWords(subject, list = URGENT_WORDS) {
  const tokens = words(subject);
  const found = [];
  for (const phrase of list) {
    const needle = words(phrase);
    if (needle.length === 0 || found.includes(phrase)) continue;
    for (let i = 0; i + needle.length <= tokens.length; i++) {
      if (needle.every((w, j) => tokens[i + j] === w)) {
        found.push(phrase);
        break;
      }
    }
  }
  return found;
}

/** The From address of a message (WIT `message`, as componentize-js presents it). */
export function senderAddress(message) {
  const from = message.participants.find((p) => p.role === 'from');
  return from ? from.address : undefined;
}

/**
 * The verdict for `view`. `contact` is the sender's contact (or undefined when the
 * sender is none of the user's contacts or the lookup failed).
 */
export function qualify(view, contact, settings) {
  const found = urgentWords(view.message.subject, settings.words);
  const verdict = { addTags: [], rules: [] };
  if (found.length === 0) return verdict;
  const said = found.map((w) => `“${w}”`).join(', ');
  if (view.isSpam) {
    verdict.rules.push({ rule: 'URGENT_SPAM', contribution: 0, detail: `the subject says ${said}, but the message is spam` });
    return verdict;
  }
  if (!contact) {
    verdict.rules.push({
      rule: 'URGENT_UNKNOWN_SENDER',
      contribution: 0,
      detail: `the subject says ${said}, but the sender is not a contact`,
    });
    return verdict;
  }
  const current = view.importanceLevel;
  const level = Math.max(current, Math.min(current + settings.steps, settings.maxLevel));
  verdict.rules.push({
    rule: 'URGENT_SUBJECT',
    contribution: level - current,
    detail: `the subject says ${said} and the sender is the contact “${contact.title}”`,
  });
  if (level !== current) verdict.importanceLevel = level;
  return verdict;
}

/** One line for the component's log. */
export function summary(verdict) {
  const rules = verdict.rules.map((r) => r.rule).join(',') || 'none';
  const level = verdict.importanceLevel === undefined ? 'unchanged' : String(verdict.importanceLevel);
  return `urgency: rules ${rules}, importance ${level}`;
}
