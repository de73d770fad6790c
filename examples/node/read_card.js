#!/usr/bin/env node
// Read an ID card through the cancuoc daemon and print the holder's name and the verdict.
//
// Node.js 18 or later, built-in modules only. Usage:
//
//   read_card.js [--socket PATH] [--reader NAME] ACCESS [--timeout SECONDS]
//   ACCESS: --can N | --id-number N [--birth YYMMDD --expiry YYMMDD] | --mrz TEXT
//         | --document-number N --birth YYMMDD --expiry YYMMDD | --qr TEXT
//
// Prints the name on the first line and the verdict (genuine, not-verified, forged) on
// the second, exit status 0. On an error answer: "CODE: message" on stderr, exit status
// 1; bad options: exit status 2. The access key is never printed.
'use strict';

const net = require('node:net');

const DEFAULT_SOCKET = '/run/cancuoc/api.sock';
// The longest answer line accepted; a read with a face image is far below it.
const MAX_LINE = 64 * 1024 * 1024;
const OPTIONS = ['socket', 'reader', 'can', 'id-number', 'mrz', 'document-number',
  'birth', 'expiry', 'qr', 'timeout'];

function usage(message) {
  process.stderr.write(`read_card: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: read_card.js [--socket PATH] [--reader NAME] ' +
        '(--can N | --id-number N [--birth YYMMDD --expiry YYMMDD] | --mrz TEXT | ' +
        '--document-number N --birth YYMMDD --expiry YYMMDD | --qr TEXT) ' +
        '[--timeout SECONDS]\n');
      process.exit(0);
    }
    let name;
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      name = arg.slice(2, eq);
      value = arg.slice(eq + 1);
    } else if (arg.startsWith('--')) {
      name = arg.slice(2);
      value = argv[++i];
    } else {
      usage(`unexpected argument ${JSON.stringify(arg)}`);
    }
    if (!OPTIONS.includes(name)) usage(`unknown option --${name}`);
    if (value === undefined) usage(`--${name} needs a value`);
    options[name] = value;
  }
  return options;
}

// The API's access object from the options (never echoed in messages).
function accessOf(o) {
  const forms = ['can', 'id-number', 'mrz', 'document-number', 'qr'].filter((k) => k in o);
  if (forms.length !== 1) {
    usage('give one of --can, --id-number, --mrz, --document-number, --qr');
  }
  const dates = {};
  if ('birth' in o) dates.birth = o.birth;
  if ('expiry' in o) dates.expiry = o.expiry;
  const ndates = Object.keys(dates).length;
  switch (forms[0]) {
    case 'document-number':
      if (ndates !== 2) usage('--document-number needs --birth and --expiry');
      return { document_number: o['document-number'], ...dates };
    case 'id-number':
      if (ndates === 1) usage('give both --birth and --expiry with --id-number, or neither');
      return { id_number: o['id-number'], ...dates };
    default:
      if (ndates !== 0) usage('--birth and --expiry go with --id-number or --document-number');
      return { [forms[0]]: o[forms[0]] };
  }
}

function fail(message) {
  process.stderr.write(`read_card: ${message}\n`);
  process.exitCode = 1;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const access = accessOf(o);
  const timeout = o.timeout === undefined ? 60 : Number(o.timeout);
  if (!(timeout > 0)) usage('--timeout must be a positive number of seconds');
  const path = o.socket || process.env.CANCUOC_SOCKET || DEFAULT_SOCKET;
  const requestId = 1;
  const request = { id: requestId, cmd: 'read', access };
  if (o.reader !== undefined) request.reader = o.reader;

  const sock = net.createConnection({ path });
  let done = false;
  const finish = () => {
    done = true;
    clearTimeout(timer);
    sock.destroy();
  };
  const timer = setTimeout(() => {
    if (!done) {
      finish();
      fail('no answer within the timeout');
    }
  }, timeout * 1000);

  // Bytes of the line being received, as chunks: a line may be large (a face image)
  // and arrive in any number of pieces.
  let parts = [];
  let size = 0;

  const onLine = (line) => {
    let message;
    try {
      message = JSON.parse(line.toString('utf8'));
    } catch {
      finish();
      fail('the daemon sent a line that is not JSON');
      return;
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message) ||
        'event' in message) {
      return; // an unasked event, or nothing for us
    }
    const ours = message.id === requestId ||
      ((message.id === null || message.id === undefined) && 'error' in message);
    if (!ours) return;
    finish();
    const result = message.result;
    if (message.error !== undefined || result === null || typeof result !== 'object') {
      const error = message.error || {};
      process.stderr.write(`${error.code || 'no-result'}: ${error.message || ''}\n`);
      process.exitCode = 1;
      return;
    }
    const name = (result.vn && result.vn.full_name) ||
      (result.holder && result.holder.full_name) || '';
    const verdict = (result.verification && result.verification.verdict) || '';
    process.stdout.write(`${name}\n${verdict}\n`);
    process.exitCode = 0;
  };

  sock.on('connect', () => {
    sock.write(JSON.stringify(request) + '\n');
  });
  sock.on('data', (chunk) => {
    let start = 0;
    while (!done) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) {
        size += chunk.length - start;
        if (size > MAX_LINE) {
          finish();
          fail(`an answer line is longer than ${MAX_LINE} bytes`);
          return;
        }
        parts.push(chunk.subarray(start));
        return;
      }
      parts.push(chunk.subarray(start, newline));
      const line = Buffer.concat(parts);
      parts = [];
      size = 0;
      start = newline + 1;
      onLine(line);
    }
  });
  sock.on('error', (e) => {
    if (!done) {
      finish();
      fail(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES'
        ? `cannot connect to ${path}: ${e.code}`
        : `talking to the daemon: ${e.message}`);
    }
  });
  sock.on('close', () => {
    if (!done) {
      finish();
      fail('the daemon closed the connection without answering');
    }
  });
}

main();
