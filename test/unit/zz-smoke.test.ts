import { test } from 'vitest';
import { parseVCard, serializeVCard } from '../../src/formats/vcard.js';
test('smoke', () => {
  const t = ['BEGIN:VCARD','VERSION:3.0','N:Doe\\;X;John\\, Jr;;','FN:John\\; Doe\\\\;x','NOTE:a\\nb\\, c, d\\;e',
'ORG:Acme\\, Inc;Sales\\;Dept','TEL;TYPE=WORK,VOICE:+1 (555) 123','TEL;type=cell;type=pref:+1\\,2',
'item1.EMAIL;type=INTERNET:j@x.com','item1.X-ABLabel:_$!<Other>!$_','X-FOO;X-P="a;b":val\\;ue',
'PHOTO;VALUE=uri:http://x/y.jpg','BDAY:19800102','CATEGORIES:a,b\\,c','ADR;TYPE=home:;;1 Main St\\nApt 2;Town;;12345;US','TEL;WORK;VOICE:+49 1','NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:M=FCller=0D=0A=','zwei','END:VCARD'].join('\r\n');
  const c = parseVCard(t, 'fb' as never);
  console.log(JSON.stringify(c, null, 1));
  console.log(serializeVCard(c));
});
