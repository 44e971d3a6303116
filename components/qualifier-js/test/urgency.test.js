// Unit tests of the urgency rules, under Node: `cd components/qualifier-js && node --test`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { qualify, senderAddress, settingsFromConfig, summary, urgentWords, words } from '../src/urgency.js';

const BOB = { contactId: 'c1', title: 'Bob', emails: ['bob@example.org'], tags: [], hasPublicKey: false };
const defaults = settingsFromConfig(() => undefined);

function view(subject, { level = 0, spam = false } = {}) {
  return {
    message: {
      subject,
      participants: [
        { role: 'from', protocol: 'email', address: 'bob@example.org', label: 'Bob' },
        { role: 'to', protocol: 'email', address: 'alice@caliopen.local', label: '' },
      ],
    },
    tags: [],
    importanceLevel: level,
    isSpam: spam,
  };
}

test('urgent words are found as whole words, any case, phrases included', () => {
  assert.deepEqual(urgentWords('URGENT: please answer ASAP!'), ['urgent', 'asap']);
  assert.deepEqual(urgentWords('Re: Action-Required before Friday'), ['action required']);
  assert.deepEqual(urgentWords('À traiter dès que possible'), ['dès que possible']);
  assert.deepEqual(urgentWords('Insurgent movies and wasps'), []);
  assert.deepEqual(urgentWords(''), []);
});

test('words split on anything that is not a letter or a digit', () => {
  assert.deepEqual(words('Time-sensitive: «très IMPORTANT» n°2'), ['time', 'sensitive', 'très', 'important', 'n', '2']);
});

test('a known contact saying urgent raises importance by one step', () => {
  const v = qualify(view('Urgent: the server is down', { level: 2 }), BOB, defaults);
  assert.equal(v.importanceLevel, 3);
  assert.equal(v.rules.length, 1);
  assert.equal(v.rules[0].rule, 'URGENT_SUBJECT');
  assert.equal(v.rules[0].contribution, 1);
  assert.match(v.rules[0].detail, /“urgent”.*contact “Bob”/);
  assert.equal(summary(v), 'urgency: rules URGENT_SUBJECT, importance 3');
});

test('a stranger saying urgent changes nothing, and the rule says why', () => {
  const v = qualify(view('URGENT: verify your account'), undefined, defaults);
  assert.equal(v.importanceLevel, undefined);
  assert.deepEqual(
    v.rules.map((r) => [r.rule, r.contribution]),
    [['URGENT_UNKNOWN_SENDER', 0]],
  );
  assert.equal(summary(v), 'urgency: rules URGENT_UNKNOWN_SENDER, importance unchanged');
});

test('spam stays spam even from a contact', () => {
  const v = qualify(view('urgent', { spam: true, level: -10 }), BOB, defaults);
  assert.equal(v.importanceLevel, undefined);
  assert.equal(v.rules[0].rule, 'URGENT_SPAM');
});

test('a calm subject gives an empty verdict', () => {
  assert.deepEqual(qualify(view('Lunch tomorrow?'), BOB, defaults), { addTags: [], rules: [] });
});

test('the level is capped by max_level and never lowered', () => {
  const capped = qualify(view('ASAP', { level: 8 }), BOB, defaults);
  assert.equal(capped.importanceLevel, undefined);
  assert.equal(capped.rules[0].contribution, 0);
  const above = qualify(view('ASAP', { level: 10 }), BOB, defaults);
  assert.equal(above.importanceLevel, undefined);
});

test('config: steps, max_level and extra words; bad values are reported', () => {
  const config = { steps: '3', max_level: '9', extra_words: 'Critical, on fire ,' };
  const s = settingsFromConfig((k) => config[k]);
  assert.deepEqual([s.steps, s.maxLevel, s.warnings], [3, 9, []]);
  assert.equal(qualify(view('We are on fire', { level: 1 }), BOB, s).importanceLevel, 4);
  assert.equal(qualify(view('critical bug', { level: 7 }), BOB, s).importanceLevel, 9);

  const bad = settingsFromConfig((k) => ({ steps: 'lots', max_level: '11' })[k]);
  assert.deepEqual([bad.steps, bad.maxLevel], [1, 8]);
  assert.equal(bad.warnings.length, 2);
  assert.match(bad.warnings[0], /`steps` = `lots`/);
});

test('the sender is the From participant', () => {
  assert.equal(senderAddress(view('x').message), 'bob@example.org');
  assert.equal(senderAddress({ participants: [] }), undefined);
});
