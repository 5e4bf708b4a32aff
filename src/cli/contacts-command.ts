import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { type Contact, emptyContact } from '../domain/contact.js';
import { LiaisonError } from '../domain/errors.js';
import { asFirmItemId, asUid } from '../domain/ids.js';
import { departmentUnits } from '../formats/vcard-values.js';
import type { App } from '../main.js';
import { collect, withApp } from './context.js';
import { type ContactFlags, contactPatch } from './item-flags.js';
import { printFields, printJson, printTable, say } from './output.js';

function contactOptions(cmd: Command): Command {
  return cmd
    .option('--given <given>', 'given name')
    .option('--family <family>', 'family name')
    .option(
      '--email <email>',
      'e-mail address (repeatable; on edit replaces the list, an address given again keeps its type)',
      collect,
    )
    .option(
      '--phone <phone>',
      'phone number (repeatable; on edit replaces the list, a number given again keeps its type)',
      collect,
    )
    .option('--org <org>', 'organization')
    .option('--title <title>', 'job title')
    .option('--note <note>', 'note')
    .option('--private', 'mark the contact private')
    .option('--no-private', 'mark the contact not private')
    .option('--json', 'print JSON only');
}

export async function userIdOf(app: App, login: string) {
  const user = await app.repos.users.get(login);
  if (!user) throw new LiaisonError('Usage', `unknown user ${login}: see \`liaison user list\``);
  return user.id;
}

const describe = (c: Contact) =>
  c.formattedName || [c.name.given, c.name.family].filter(Boolean).join(' ') || '(no name)';

export function registerContacts(program: Command): void {
  const contacts = program.command('contacts').description("a user's contact list in the firm database");

  contacts
    .command('list')
    .description("list a user's contacts")
    .requiredOption('--user <login>', 'the user')
    .option('--json', 'print JSON only')
    .action(async (opts: { user: string; json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const list = await app.repos.contacts.list(await userIdOf(app, opts.user));
        if (opts.json) await printJson(list.map((r) => ({ id: r.id, ...r.item, updatedAt: r.updatedAt })));
        else {
          printTable(
            ['ID', 'NAME', 'E-MAIL', 'PHONE', 'ORGANIZATION'],
            list.map((r) => [
              r.id,
              describe(r.item),
              r.item.emails.map((e) => e.value).join(', '),
              r.item.phones.map((p) => p.value).join(', '),
              r.item.organization,
            ]),
          );
        }
      });
    });

  contacts
    .command('show')
    .description('show every field of a contact')
    .argument('<id>', 'contact id')
    .option('--json', 'print JSON only')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const found = await app.repos.contacts.get(asFirmItemId(id));
        if (!found) throw new LiaisonError('Usage', `no contact ${id}`);
        const c = found.item;
        if (opts.json) {
          await printJson({ id, ...c, updatedAt: found.updatedAt });
          return;
        }
        const typed = (values: readonly { types: readonly string[]; value: string }[]) =>
          values.map((v) => `${v.value}${v.types.length > 0 ? ` (${v.types.join(', ')})` : ''}`).join('\n');
        const n = c.name;
        printFields([
          ['ID', id],
          ['UID', c.uid],
          ['Name', describe(c)],
          [
            'Name parts',
            [n.prefix, n.given, n.additional, n.family, n.suffix].some(Boolean)
              ? `prefix "${n.prefix}", given "${n.given}", additional "${n.additional}", family "${n.family}", suffix "${n.suffix}"`
              : '',
          ],
          ['Nickname', c.nickname],
          ['Organization', c.organization],
          ['Department', departmentUnits(c.department).join('\n')],
          ['Title', c.title],
          ['E-mail', typed(c.emails)],
          ['Phone', typed(c.phones)],
          [
            'Address',
            c.addresses
              .map(
                (a) =>
                  `${[a.poBox, a.extended, a.street, a.locality, a.region, a.postalCode, a.country].filter(Boolean).join(', ')}${a.types.length > 0 ? ` (${a.types.join(', ')})` : ''}`,
              )
              .join('\n'),
          ],
          ['Web', typed(c.urls)],
          ['Birthday', c.birthday],
          ['Note', c.note],
          ['Categories', c.categories.join(', ')],
          ['Private', c.private ? 'yes' : 'no'],
          // Lines that only carry the parameters of a value shown above, and the version marker, are left out.
          [
            'Other',
            c.extra.filter((l) => !/^(?:[\w-]+\.)?(EMAIL|TEL|ADR|URL|VERSION)[;:]/i.test(l)).join('\n'),
          ],
          ['Updated', found.updatedAt],
        ]);
      });
    });

  contactOptions(
    contacts
      .command('add')
      .description('add a contact to a user list')
      .requiredOption('--user <login>', 'the user'),
  ).action(async (opts: ContactFlags & { user: string; json?: boolean }, cmd: Command) => {
    if (!opts.given && !opts.family && !opts.email?.length && !opts.org) {
      throw new LiaisonError(
        'Usage',
        'a contact needs at least a name, an e-mail address or an organization',
      );
    }
    await withApp(cmd, async (app) => {
      const user = await userIdOf(app, opts.user);
      const contact: Contact = { ...emptyContact(asUid(randomUUID())), ...contactPatch(opts) };
      const id = await app.repos.contacts.add(user, contact);
      if (opts.json) await printJson({ id, ...contact });
      else say(`Added contact ${id}: ${describe(contact)}`);
    });
  });

  contactOptions(
    contacts.command('edit').description('edit a contact').argument('<id>', 'contact id'),
  ).action(async (id: string, opts: ContactFlags & { json?: boolean }, cmd: Command) => {
    await withApp(cmd, async (app) => {
      const current = await app.repos.contacts.get(asFirmItemId(id));
      if (!current) throw new LiaisonError('Usage', `no contact ${id}`);
      const patch = contactPatch(opts, current.item);
      if (Object.keys(patch).length === 0)
        throw new LiaisonError('Usage', 'nothing to change: give at least one field');
      const after = await app.repos.contacts.edit(asFirmItemId(id), patch);
      if (opts.json) await printJson({ id, ...after });
      else say(`Updated contact ${id}: ${describe(after)}`);
    });
  });

  contacts
    .command('delete')
    .description('delete a contact')
    .argument('<id>', 'contact id')
    .option('--json', 'print JSON only')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const current = await app.repos.contacts.get(asFirmItemId(id));
        if (!current) throw new LiaisonError('Usage', `no contact ${id}`);
        await app.repos.contacts.delete(asFirmItemId(id));
        if (opts.json) await printJson({ id, deleted: true });
        else say(`Deleted contact ${id}: ${describe(current.item)}`);
      });
    });
}
