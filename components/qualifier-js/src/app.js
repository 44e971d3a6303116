// The urgency qualifier as a component (world `qualifier` of
// caliopen:platform@0.1.0, built by componentize-js; see docs/qualifiers.md).
//
// The glue: read the manifest's `[config]`, ask the host whether the sender is one
// of the user's contacts, and call the logic in `urgency.js`. The host interfaces
// this file may import are those the manifest grants (log, config, contacts): the
// build derives the component's world from that list.

import { get } from 'caliopen:platform/config@0.1.0';
import { lookup } from 'caliopen:platform/contacts@0.1.0';
import { log } from 'caliopen:platform/log@0.1.0';

import { qualify as decide, senderAddress, settingsFromConfig, summary, urgentWords } from './urgency.js';

export function qualify(view) {
  const settings = settingsFromConfig(get);
  for (const warning of settings.warnings) log('warn', warning);
  let contact;
  const sender = senderAddress(view.message);
  // Ask the host only when the subject is urgent: most mail is not.
  if (sender !== undefined && urgentWords(view.message.subject, settings.words).length > 0) {
    try {
      contact = lookup(sender);
    } catch (e) {
      log('warn', `contact lookup failed (${JSON.stringify(e?.payload ?? String(e))}): treated as unknown`);
    }
  }
  const verdict = decide(view, contact, settings);
  // stdout goes to the host's log under this component's name.
  console.log(summary(verdict));
  return verdict;
}
