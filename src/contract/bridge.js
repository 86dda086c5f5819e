// mockcrm contract bridge: loads one App Connect connector module and runs
// its functions for `mockcrm contract`, which plays App Connect core.
//
// It owns loading the module and carrying calls and answers; it must not
// judge what the connector answers (the Rust runner does) and must never
// write to stdout or stderr itself while the socket is up: both belong to
// the connector, and mockcrm shows them to the user as its logs.
//
// Protocol (src/contract/PROTOCOL.md): one JSON object per line over the
// Unix socket named by MOCKCRM_BRIDGE_SOCKET, never over stdout, so nothing
// the connector prints can corrupt it.
//
// It needs nothing but Node.js (18 or later) and runs unchanged under
// `npx tsx` for TypeScript connectors. It is written so that it works
// whether Node reads this file as CommonJS or as an ES module, because the
// directory it is written to may sit under a `"type": "module"` package.

'use strict';

const PROTOCOL = 1;
const REQUIRED = ['createCallLog', 'updateCallLog', 'getCallLog'];
const EXIT_LOAD_ERROR = 2;

// Taken before the connector loads, so a connector that patches JSON cannot
// break the channel.
const stringify = JSON.stringify;
const parse = JSON.parse;

let socket = null;
let exitCode = 0;
const pending = new Set();

function send(message) {
  if (socket && !socket.destroyed) {
    socket.write(stringify(message) + '\n');
  }
}

// Only used before the socket exists: there is nobody else to tell.
function fatal(line) {
  process.stderr.write(`mockcrm bridge: ${line}\n`);
  process.exit(EXIT_LOAD_ERROR);
}

async function main() {
  const net = await import('node:net');
  const path = await import('node:path');
  const fs = await import('node:fs');
  const url = await import('node:url');
  const moduleApi = await import('node:module');
  const childProcess = await import('node:child_process');
  const builtins = { net, path, fs, url, moduleApi, childProcess };

  const socketPath = process.env.MOCKCRM_BRIDGE_SOCKET;
  if (!socketPath) {
    fatal('MOCKCRM_BRIDGE_SOCKET is not set; this script is run by `mockcrm contract`, not by hand');
  }
  const given = process.argv[2];
  if (!given) {
    fatal('no connector given; usage: <node> bridge.js <connector module>');
  }

  socket = await new Promise((resolve) => {
    const connection = net.createConnection(socketPath);
    connection.once('connect', () => resolve(connection));
    connection.once('error', (error) => fatal(`cannot connect to ${socketPath}: ${error.message}`));
  });
  socket.setEncoding('utf8');
  // mockcrm closing its end means the run is over, whatever is in flight.
  socket.on('close', () => process.exit(exitCode));
  socket.on('error', () => process.exit(exitCode));

  // Installed before loading, so top-level background work is covered too.
  for (const kind of ['uncaughtException', 'unhandledRejection']) {
    process.on(kind, (reason) => {
      send({ type: 'uncaught', kind, error: describeError(reason), pending: [...pending] });
    });
  }

  const loaded = await load(given, builtins);
  if (loaded.error) {
    exitCode = EXIT_LOAD_ERROR;
    socket.end(stringify({ type: 'load_error', ...loaded.error }) + '\n');
    return;
  }
  const { target, kind, functions, file } = loaded;
  const core = registerInCore(target, file, builtins);
  if (core.error) {
    exitCode = EXIT_LOAD_ERROR;
    socket.end(stringify({ type: 'load_error', ...core.error }) + '\n');
    return;
  }
  send({
    type: 'ready',
    protocol: PROTOCOL,
    module: kind,
    path: file,
    functions,
    node: process.version,
    core: core.registered,
  });

  let buffered = '';
  socket.on('data', (chunk) => {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      if (line.trim() !== '') {
        handle(line, target, functions);
      }
    }
  });
}

function handle(line, target, functions) {
  let request;
  try {
    request = parse(line);
  } catch (error) {
    send(failure(null, 'bad_request', 'the request is not JSON: ' + error.message));
    return;
  }
  const id = request && request.id;
  if (request === null || typeof request !== 'object' || (typeof id !== 'number' && typeof id !== 'string')) {
    send(failure(null, 'bad_request', 'a request needs an "id" (number or string)'));
    return;
  }
  if (typeof request.fn !== 'string' || !Array.isArray(request.args)) {
    send(failure(id, 'bad_request', 'a request needs "fn" (a string) and "args" (an array)'));
    return;
  }
  // Only what `ready` listed: never Object.prototype's `constructor` & co.
  const fn = functions.includes(request.fn) ? target[request.fn] : undefined;
  if (typeof fn !== 'function') {
    send(failure(id, 'no_function', `the connector exports no function ${request.fn}`));
    return;
  }
  if (request.env !== null && typeof request.env === 'object') {
    for (const [name, value] of Object.entries(request.env)) {
      process.env[name] = typeof value === 'string' ? value : stringify(value);
    }
  }
  // As App Connect core hands it: a user row (a Sequelize model) whose
  // save() and update() persist; what they persisted goes back with the
  // answer, so the next call gets the user as it was left.
  let saved = null;
  const first = request.args[0];
  if (request.user !== null && typeof request.user === 'object' && first !== null && typeof first === 'object') {
    first.user = userRecord(request.user, (snapshot) => {
      saved = snapshot;
    });
  }
  const withUser = (message) => (saved === null ? message : { ...message, user: saved });
  pending.add(id);
  let returned;
  try {
    returned = fn.apply(target, request.args);
  } catch (error) {
    pending.delete(id);
    send(withUser({ type: 'result', id, ok: false, async: false, error: { kind: 'threw', ...describeError(error) } }));
    return;
  }
  if (returned === null || (typeof returned !== 'object' && typeof returned !== 'function') ||
      typeof returned.then !== 'function') {
    pending.delete(id);
    answer(id, request.fn, returned, false, withUser);
    return;
  }
  Promise.resolve(returned).then(
    (value) => {
      pending.delete(id);
      answer(id, request.fn, value, true, withUser);
    },
    (error) => {
      pending.delete(id);
      send(withUser({ type: 'result', id, ok: false, async: true, error: { kind: 'rejected', ...describeError(error) } }));
    },
  );
}

// App Connect core's user row as a connector sees it: the fields as own
// properties, and Sequelize's save(), update(fields) (merges, then saves),
// get(), reload() and toJSON(), which are not fields (non-enumerable).
function userRecord(fields, persisted) {
  const record = { ...fields };
  const plain = () => {
    const out = {};
    for (const key of Object.keys(record)) {
      out[key] = record[key];
    }
    return out;
  };
  const persist = () => {
    persisted(parse(stringify(plain())));
  };
  const methods = {
    save: async () => {
      persist();
      return record;
    },
    update: async (changes) => {
      if (changes !== null && typeof changes === 'object') {
        Object.assign(record, changes);
      }
      persist();
      return record;
    },
    reload: async () => record,
    get: (key) => (typeof key === 'string' ? record[key] : plain()),
    toJSON: () => plain(),
  };
  for (const [name, method] of Object.entries(methods)) {
    Object.defineProperty(record, name, { value: method, enumerable: false, writable: true, configurable: true });
  }
  Object.defineProperty(record, 'dataValues', { get: () => record, enumerable: false, configurable: true });
  return record;
}

// With MOCKCRM_CORE_PLATFORM set, and `@app-connect/core` installed where
// the connector can require it, the connector is registered in core's
// connector registry under that platform, as App Connect's server does at
// start-up; connectors that look themselves up there (account data) work.
// `registered` is null when core is not installed there.
function registerInCore(target, file, { path, moduleApi }) {
  const platform = process.env.MOCKCRM_CORE_PLATFORM;
  if (!platform) {
    return { registered: null };
  }
  const requireFrom = moduleApi.createRequire(file);
  let resolved;
  try {
    resolved = requireFrom.resolve('@app-connect/core/connector/registry');
  } catch (_) {
    return { registered: null };
  }
  try {
    const loaded = requireFrom(resolved);
    const registry = loaded && typeof loaded.registerConnector === 'function' ? loaded : loaded && loaded.default;
    if (!registry || typeof registry.registerConnector !== 'function') {
      throw new Error(`${resolved} has no registerConnector`);
    }
    registry.registerConnector(platform, target);
    return { registered: { platform, registry: path.dirname(resolved) } };
  } catch (error) {
    const message = error && error.message ? String(error.message).split('\n')[0] : String(error);
    return loadError('load_failed', `cannot register ${file} in @app-connect/core's connector registry as ${platform}: ${message}`);
  }
}

function answer(id, fnName, value, isAsync, withUser) {
  if (value === undefined) {
    send(withUser({ type: 'result', id, ok: true, async: isAsync, undefined: true }));
    return;
  }
  let line;
  try {
    line = stringify(withUser({ type: 'result', id, ok: true, async: isAsync, value }));
  } catch (error) {
    const problem = findUnencodable(value);
    send(withUser({
      type: 'result',
      id,
      ok: false,
      async: isAsync,
      error: {
        kind: 'unserializable',
        name: error && error.name ? String(error.name) : 'TypeError',
        message: `${fnName} returned a value that cannot be sent as JSON: ${problem || String(error && error.message)}`,
        stack: null,
      },
      value: safeCopy(value),
    }));
    return;
  }
  if (socket && !socket.destroyed) {
    socket.write(line + '\n');
  }
}

function failure(id, kind, message) {
  return { type: 'result', id, ok: false, error: { kind, name: 'BridgeError', message, stack: null } };
}

// The bridge's own frames say nothing to the connector's author: a stack is
// cut where it enters this file.
const ownFile = (() => {
  const line = (new Error().stack || '').split('\n')[1] || '';
  const found = /\(?((?:file:\/\/)?[^()\s]+?):\d+:\d+\)?\s*$/.exec(line);
  return found ? found[1].replace(/^file:\/\//, '') : null;
})();

function trimStack(stack) {
  if (typeof stack !== 'string') {
    return null;
  }
  if (!ownFile) {
    return stack;
  }
  const lines = stack.split('\n');
  const cut = lines.findIndex((line) => line.includes(ownFile));
  return (cut > 0 ? lines.slice(0, cut) : lines).join('\n');
}

// What a thrown value says about itself. Axios-style errors keep the HTTP
// status, because App Connect core chooses its message from it.
function describeError(value) {
  if (value instanceof Error || (value && typeof value === 'object' && typeof value.message === 'string')) {
    const described = {
      name: typeof value.name === 'string' ? value.name : 'Error',
      message: String(value.message),
      stack: trimStack(value.stack),
    };
    const status = value.response && value.response.status;
    if (typeof status === 'number') {
      described.status = status;
    }
    if (typeof value.code === 'string' || typeof value.code === 'number') {
      described.code = String(value.code);
    }
    return described;
  }
  let text;
  try {
    text = value === undefined ? 'undefined' : stringify(value);
  } catch (_) {
    text = String(value);
  }
  return { name: 'NonError', message: `threw a ${typeof value} that is not an Error: ${text}`, stack: null };
}

// The first place in `value` that JSON cannot carry, as a path a developer
// can look for ("value.callLogInfo.fullLogResponse.request is circular").
function findUnencodable(root) {
  const ancestors = [];
  function visit(value, where) {
    if (typeof value === 'bigint') {
      return `${where} is a BigInt`;
    }
    if (value === null || typeof value !== 'object') {
      return null;
    }
    if (ancestors.includes(value)) {
      return `${where} is a circular reference`;
    }
    if (typeof value.toJSON === 'function') {
      let replaced;
      try {
        replaced = value.toJSON();
      } catch (error) {
        return `${where}.toJSON() throws: ${error && error.message}`;
      }
      if (replaced !== value) {
        return visit(replaced, where);
      }
    }
    ancestors.push(value);
    let keys;
    try {
      keys = Object.keys(value);
    } catch (error) {
      return `${where} cannot be listed: ${error && error.message}`;
    }
    for (const key of keys) {
      let child;
      try {
        child = value[key];
      } catch (error) {
        return `reading ${where}.${key} throws: ${error && error.message}`;
      }
      const found = visit(child, Array.isArray(value) ? `${where}[${key}]` : `${where}.${key}`);
      if (found) {
        return found;
      }
    }
    ancestors.pop();
    return null;
  }
  return visit(root, 'value');
}

// A JSON-safe copy for diagnosis: circular references and what cannot be
// read become marker strings. Bounded, because the usual culprit is an HTTP
// client's response object with its whole socket graph behind it.
function safeCopy(root) {
  const ancestors = [];
  let budget = 10000;
  function copy(value) {
    if (--budget < 0) {
      return '[…]';
    }
    if (typeof value === 'bigint') {
      return `${value}n`;
    }
    if (value === null || typeof value !== 'object') {
      return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
    }
    if (ancestors.includes(value)) {
      return '[Circular]';
    }
    if (ancestors.length >= 12) {
      return '[…]';
    }
    if (typeof value.toJSON === 'function') {
      try {
        const replaced = value.toJSON();
        if (replaced !== value) {
          return copy(replaced);
        }
      } catch (_) {
        return '[toJSON threw]';
      }
    }
    ancestors.push(value);
    let out;
    if (Array.isArray(value)) {
      out = value.map((item) => {
        const copied = copy(item);
        return copied === undefined ? null : copied;
      });
    } else {
      out = {};
      for (const key of Object.keys(value)) {
        let copied;
        try {
          copied = copy(value[key]);
        } catch (_) {
          copied = '[unreadable]';
        }
        if (copied !== undefined) {
          out[key] = copied;
        }
      }
    }
    ancestors.pop();
    return out;
  }
  try {
    return copy(root);
  } catch (_) {
    return null;
  }
}

// Loading --------------------------------------------------------------------

async function load(given, builtins) {
  const { path, fs, url, moduleApi } = builtins;
  const file = path.resolve(process.cwd(), given);
  let stat;
  try {
    stat = fs.statSync(file);
  } catch (_) {
    return loadError('not_found', `${given}: no such file (looked for ${file}); give the path of your connector module`);
  }
  if (stat.isDirectory()) {
    return loadError('not_found', `${given} is a directory; give the path of the connector's module file (for example ${path.join(given, 'index.js')})`);
  }

  let namespace;
  let viaImport = prefersImport(file, builtins);
  try {
    if (!viaImport) {
      const requireFrom = moduleApi.createRequire(file);
      try {
        namespace = requireFrom(file);
      } catch (error) {
        // An ES module that require() cannot take (older Node, or top-level
        // await): import() takes it.
        if (error && (error.code === 'ERR_REQUIRE_ESM' || error.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
          viaImport = true;
        } else {
          throw error;
        }
      }
    }
    if (viaImport) {
      namespace = await import(url.pathToFileURL(file).href);
    }
  } catch (error) {
    return loadFailure(given, file, error, builtins);
  }

  const isModule = Object.prototype.toString.call(namespace) === '[object Module]';
  const target = pickTarget(namespace);
  const functions = target ? functionNames(target) : [];
  const missing = REQUIRED.filter((name) => !functions.includes(name));
  if (!target || missing.length > 0) {
    const exported = functions.length > 0 ? `it exports: ${functions.join(', ')}` : 'it exports no functions at all';
    const how = isModule
      ? 'export them (export async function createCallLog(...) {...}, or export default { createCallLog, ... })'
      : 'export them (module.exports = { createCallLog, updateCallLog, getCallLog, ... })';
    return loadError(
      'missing_function',
      `${given} does not export ${missing.join(', ')}; a connector must export createCallLog, updateCallLog and getCallLog (${exported}); ${how}`,
    );
  }
  return { target, kind: isModule ? 'module' : 'commonjs', functions, file };
}

// .mjs/.mts always, and .js/.ts under a "type": "module" package.json; the
// rest goes through require(), which gives CommonJS stack traces with the
// file and line of a syntax error.
function prefersImport(file, { path, fs }) {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.mjs' || ext === '.mts') {
    return true;
  }
  if (ext === '.cjs' || ext === '.cts') {
    return false;
  }
  let dir = path.dirname(file);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    try {
      const text = fs.readFileSync(manifest, 'utf8');
      try {
        return parse(text).type === 'module';
      } catch (_) {
        return false;
      }
    } catch (_) {
      // no package.json here; look further up
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      return false;
    }
    dir = parent;
  }
}

// The object that holds the connector's functions: the module itself, or
// its default export (`export default {...}`, or TypeScript's compiled
// `exports.default`), whichever has createCallLog.
function pickTarget(namespace) {
  const candidates = [];
  const add = (value) => {
    if (value !== null && (typeof value === 'object' || typeof value === 'function') && !candidates.includes(value)) {
      candidates.push(value);
    }
  };
  add(namespace);
  if (namespace) {
    add(safeGet(namespace, 'default'));
    const inner = safeGet(namespace, 'default');
    if (inner) {
      add(safeGet(inner, 'default'));
    }
  }
  const complete = candidates.find((candidate) => REQUIRED.every((name) => typeof safeGet(candidate, name) === 'function'));
  if (complete) {
    return complete;
  }
  let best = null;
  let bestCount = 0;
  for (const candidate of candidates) {
    const count = functionNames(candidate).length;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

function safeGet(object, key) {
  try {
    return object[key];
  } catch (_) {
    return undefined;
  }
}

// Own and inherited methods (a class instance keeps its methods on the
// prototype), without what every object or function has anyway.
function functionNames(target) {
  const names = new Set();
  let level = target;
  while (level && level !== Object.prototype && level !== Function.prototype) {
    for (const key of Object.getOwnPropertyNames(level)) {
      if (key !== 'constructor' && typeof safeGet(target, key) === 'function') {
        names.add(key);
      }
    }
    level = Object.getPrototypeOf(level);
  }
  return [...names].sort();
}

function loadError(kind, message) {
  return { error: { kind, message: oneLine(message) } };
}

function oneLine(text) {
  return String(text).replace(/\s*\n\s*/g, ' ').trim();
}

function loadFailure(given, file, error, builtins) {
  const { path } = builtins;
  const display = (location) => {
    const relative = path.relative(process.cwd(), location);
    return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : location;
  };
  const name = error && error.name ? error.name : 'Error';
  const message = error && error.message ? String(error.message) : String(error);

  if (error && error.code === 'MODULE_NOT_FOUND' || error && error.code === 'ERR_MODULE_NOT_FOUND') {
    const wanted = /Cannot find (?:module|package) '([^']+)'/.exec(message);
    const what = wanted ? `'${wanted[1]}'` : 'a module';
    return loadError(
      'load_failed',
      `${given} could not be loaded: it requires ${what}, which is not installed; run npm install in the connector's folder (${message.split('\n')[0]})`,
    );
  }

  if (name === 'SyntaxError' || /Transform failed|SyntaxError/.test(message)) {
    const location = syntaxLocation(error, file, builtins);
    const where = location ? `${display(location.file)}:${location.line}${location.column ? `:${location.column}` : ''}` : null;
    const lines = message.split('\n');
    // esbuild's own line holds the reason; its first line only counts errors.
    const first = lines.find((line) => / ERROR: /.test(line)) || lines.find((line) => line.trim() !== '') || message;
    if (where) {
      return loadError('syntax', `${where}: syntax error: ${first.replace(/^.*? ERROR: /, '')}`);
    }
    return loadError('syntax', `${given} (or a module it imports) has a syntax error: ${first}`);
  }

  const frame = firstUserFrame(error);
  const at = frame ? ` at ${display(frame.file)}:${frame.line}` : '';
  return loadError('load_failed', `${given} threw while loading${at}: ${name}: ${message.split('\n')[0]}`);
}

// Where a syntax error is. CommonJS puts "file:line" on the stack's first
// line; esbuild (tsx) puts "file:line:column: ERROR:" in the message; an ES
// module's error carries no place at all, so `node --check` names it.
function syntaxLocation(error, file, { url, childProcess }) {
  const stack = error && typeof error.stack === 'string' ? error.stack : '';
  const head = /^(?:file:\/\/)?(\/[^\n]*?|[A-Za-z]:\\[^\n]*?):(\d+)\s*$/m.exec(stack.split('\n')[0] || '');
  if (head) {
    return { file: fromUrl(head[1], url), line: Number(head[2]) };
  }
  const message = error && error.message ? String(error.message) : '';
  const esbuild = /((?:file:\/\/)?(?:\/|[A-Za-z]:\\)[^\s:]+):(\d+):(\d+): ERROR/.exec(message);
  if (esbuild) {
    return { file: fromUrl(esbuild[1], url), line: Number(esbuild[2]), column: Number(esbuild[3]) };
  }
  if (/\.(?:c|m)?js$/i.test(file)) {
    const checked = childProcess.spawnSync(process.execPath, ['--check', file], {
      encoding: 'utf8',
      timeout: 10000,
    });
    const first = (checked.stderr || '').split('\n')[0] || '';
    const found = /^(?:file:\/\/)?(.+):(\d+)\s*$/.exec(first);
    if (checked.status !== 0 && found) {
      return { file: fromUrl(found[1], url), line: Number(found[2]) };
    }
  }
  return null;
}

function fromUrl(location, url) {
  return location.startsWith('file://') ? url.fileURLToPath(location) : location;
}

function firstUserFrame(error) {
  const stack = error && typeof error.stack === 'string' ? error.stack : '';
  for (const line of stack.split('\n').slice(1)) {
    const found = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?\s*$/.exec(line);
    if (found && !found[1].includes('node:internal') && !found[1].includes('/node_modules/tsx/')) {
      return { file: found[1].replace(/^file:\/\//, ''), line: Number(found[2]) };
    }
  }
  return null;
}

main().catch((error) => {
  const text = error && error.stack ? error.stack : String(error);
  if (socket && !socket.destroyed) {
    exitCode = EXIT_LOAD_ERROR;
    socket.end(stringify({ type: 'load_error', kind: 'bridge', message: oneLine(`the bridge failed: ${text.split('\n')[0]}`) }) + '\n');
  } else {
    fatal(`the bridge failed: ${text.split('\n')[0]}`);
  }
});
