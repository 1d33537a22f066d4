// Starts one of the project's web binaries on a free loopback port and stops it again.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createWriteStream, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { artifactsDir } from './paths.mjs';

/** A free TCP port on 127.0.0.1 (the OS picks it; the tiny window before the server binds it is accepted). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh temporary directory for a test database. */
export function scratchDir(prefix) {
  return mkdtempSync(join(tmpdir(), `castellan-${prefix}-`));
}

async function waitUntilServing(url, child, deadlineMs) {
  const end = Date.now() + deadlineMs;
  let lastError;
  while (Date.now() < end) {
    if (child.exitCode !== null) {
      throw new Error(`the server exited with code ${child.exitCode} before serving; see its log`);
    }
    try {
      const res = await fetch(url, { redirect: 'manual' });
      await res.arrayBuffer();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`the server did not answer ${url} within ${deadlineMs} ms: ${lastError}`);
}

/**
 * Runs `bin args… --bind 127.0.0.1:PORT` and resolves once it answers HTTP. Its output goes to
 * artifacts/logs/NAME.log. Returns { url, stop() }.
 */
export async function startServer({ name, bin, args = [], env = {}, readyPath = '/', deadlineMs = 120_000 }) {
  if (!bin) {
    throw new Error(`no binary for ${name}: run the browser tests through scripts/browser-tests.sh`);
  }
  const port = await freePort();
  const logs = join(artifactsDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const log = createWriteStream(join(logs, `${name}.log`));
  const child = spawn(bin, [...args, '--bind', `127.0.0.1:${port}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      output.push(chunk.toString());
      log.write(chunk);
    });
  }
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(url + readyPath, child, deadlineMs);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n--- ${name} output ---\n${output.join('')}`);
  }
  return {
    url,
    output: () => output.join(''),
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      log.end();
      return code;
    },
  };
}
