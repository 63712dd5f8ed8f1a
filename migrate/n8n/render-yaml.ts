import { Document, isMap, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import type { StreamSuggestions } from './suggestions';

const quoteList = (names: string[]) => names.map((n) => `"${n}"`).join(', ');

/**
 * `salesforce.objects` entries of config/streams.yaml (the streams contract) for the objects the
 * workflows read and the file lacks, with the fields to add to declared objects as comments.
 */
export function renderStreamsYaml(s: StreamSuggestions, source: string): string {
  const head = [
    `Salesforce objects the n8n workflows read, as config/streams.yaml entries (compared with ${source}).`,
    'Paste the entries under salesforce.objects; then `npx novade streams check` compares them with Salesforce.',
    'A new entry has no identity and no events: its records go to the warehouse only until you add them.',
  ];
  for (const e of s.extend) {
    const what = [e.fields.length ? `add to its fields: ${e.fields.join(', ')}` : '', e.everyField ? 'a workflow read every field (`fields: all` would keep them all)' : ''].filter(Boolean).join('; ');
    head.push(`${e.object} (${e.stream}) is declared; ${what} (read by ${quoteList(e.readBy)})`);
  }
  if (s.add.length === 0) {
    head.push('Nothing to add: every object the workflows read is declared.');
    return `${head.map((l) => `# ${l}`).join('\n')}\n`;
  }
  const doc = new Document({ salesforce: { objects: s.add.map((a) => a.entry) } });
  doc.commentBefore = head.map((l) => ` ${l}`).join('\n');
  const objects = doc.getIn(['salesforce', 'objects'], true);
  if (isSeq(objects)) {
    (objects as YAMLSeq).items.forEach((item, i) => {
      const a = s.add[i];
      const notes = [`read by ${quoteList(a.readBy)}`];
      if (a.everyField) notes.push('a workflow read every field');
      if (a.dynamic) notes.push('a workflow chose its fields at run time: check the list');
      if (isMap(item)) {
        (item as YAMLMap).commentBefore = ` ${notes.join('; ')}`;
        const fields = (item as YAMLMap).get('fields', true);
        if (isSeq(fields)) fields.flow = true;
      }
    });
  }
  return doc.toString({ lineWidth: 0 });
}
