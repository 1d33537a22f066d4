// Runs the `castellan` CLI to prepare a database for a browser test.
import { spawnSync } from 'node:child_process';

/** Runs `castellan ARGS…` against DATABASE_URL (stdin: INPUT); throws with its output when it fails. */
export function castellan(databaseUrl, args, { input, env = {} } = {}) {
  const bin = process.env.CASTELLAN_BIN;
  if (!bin) {
    throw new Error('CASTELLAN_BIN is not set: run the browser tests through scripts/browser-tests.sh');
  }
  const res = spawnSync(bin, args, {
    input,
    encoding: 'utf8',
    env: { ...process.env, CASTELLAN_DATABASE_URL: databaseUrl, ...env },
  });
  if (res.status !== 0) {
    throw new Error(`castellan ${args.join(' ')} failed (${res.status ?? res.signal}):\n${res.stdout}${res.stderr}`);
  }
  return res.stdout;
}
