// A real SMTP server in the test process (smtp-server), whose messages are parsed with
// mailparser: what arrived, to whom, with which subject and bodies.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface Smtp {
  url: string;
  mails: (ParsedMail & { envelopeTo: string[] })[];
  close(): Promise<void>;
}

export async function startSmtp(): Promise<Smtp> {
  const mails: Smtp['mails'] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((m) => {
          mails.push(Object.assign(m, { envelopeTo: session.envelope.rcptTo.map((r) => r.address) }));
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise<void>((r) => server.close(() => r())) };
}
