import type { Rng } from './random';

/**
 * Chat lines for the sandbox's Drift conversations, in the shape Drift stores them: HTML bodies, entities,
 * emoji, several languages, the odd empty body (a button click), so a mapping that assumes plain ASCII text
 * fails here rather than in production.
 */

const BOT_OPENERS = [
  '<p>Hi there! 👋 Looking to digitise your site inspections?</p>',
  '<p>Welcome to Novade! What brings you here today?</p>',
  '<p>Hello! Can I help you find the right plan for your team?</p>',
  '<p>Bonjour ! Vous cherchez une solution QHSE pour vos chantiers ?</p>',
];

const BOT_FOLLOW_UPS = [
  '<p>Great, what is your work email so our team can follow up?</p>',
  '<p>How many people work on your sites?</p>',
  '<p>Would you like to book a demo with a product specialist?</p>',
  '<p>Thanks! Someone from our team will be with you shortly.</p>',
];

const VISITOR_LINES = [
  'Hi, we need a tool for daily site diaries',
  'Do you integrate with Procore &amp; SAP?',
  'how much per user?',
  'We are a contractor in Singapore with ~250 workers on site',
  'Can I get a demo next week?',
  'Wir suchen eine Lösung für Mängelmanagement',
  'Nous avons 12 chantiers en cours, est-ce adapté ?',
  'ok thanks',
  '👍',
  'Is the app available offline? Our sites have bad signal',
  'Need pricing for QA/QC module <b>urgent</b>',
  'Chúng tôi cần phần mềm quản lý an toàn lao động',
  '',
];

const AGENT_LINES = [
  "<p>Hi! I'm happy to help. Which modules are you interested in?</p>",
  '<p>Yes, the mobile app works fully offline and syncs when back online.</p>',
  '<p>Pricing depends on the number of projects; can I send you a quote?</p>',
  '<p>I have booked you a slot, you should get a calendar invite.</p>',
  '<p>We integrate with SAP, Procore and Microsoft Teams.</p>',
  '<p>Let me loop in a colleague from our Paris office.</p>',
];

const NOTES = [
  'Hot lead, 3 sites in Jurong',
  'Existing customer? check Salesforce before replying',
  'Asked for a discount > 20%, escalate to sales manager',
  'Duplicate of an earlier chat with the same company',
];

export const BOT_BUTTONS = [
  { label: 'Book a demo', value: 'book_demo', type: 'reply' as const },
  { label: 'Pricing', value: 'pricing', type: 'reply' as const },
  { label: 'Just browsing', value: 'browsing', type: 'reply' as const },
];

export const botOpener = (r: Rng) => r.pick(BOT_OPENERS);
export const botFollowUp = (r: Rng) => r.pick(BOT_FOLLOW_UPS);
export const visitorLine = (r: Rng) => r.pick(VISITOR_LINES);
export const agentLine = (r: Rng) => r.pick(AGENT_LINES);
export const privateNote = (r: Rng) => r.pick(NOTES);
