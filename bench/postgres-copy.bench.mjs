// Which batched write does the PostgreSQL writer use? One `INSERT … SELECT FROM unnest($1::text[], …) ON CONFLICT`
// (what it ships) against `COPY … FROM STDIN` into a temporary staging table, then `INSERT … SELECT FROM staging
// ON CONFLICT` (what issue 14 asked to compare). Both write the same batches of transmissions (the widest table: raw
// hex and decoded JSON) into the real schema, with the writer's ON CONFLICT and RETURNING, half of each batch
// already stored (the same packet heard again). Batches alternate between the two methods, each in its own
// throw-away database, so they share the machine's noise.
//
//   npm run bench:postgres-copy [-- --batches 40 --rows 2000]
// Env: BENCH_PG_ADMIN_URL (as for npm run bench: the local server as postgres, then as the OS user).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { arg, requireFromProject as require, root, shared } from './bench-support.mjs';
import { createBenchDatabase, serverInfo } from './support/postgres-e2e.mjs';

const { procSample } = await import(pathToFileURL(join(shared, 'tools/lib/proc.mjs')).href);
const { Pool } = require('pg');
const { from: copyFrom } = require('pg-copy-streams');
const { migratePostgres } = require(join(root, 'dist/modules/persistence/postgres/postgres-migrations.js'));

const BATCHES = Number(arg('batches', 40));
const ROWS = Number(arg('rows', 2000));

const COLUMNS = ['raw_hex', 'hash', 'first_seen', 'route_type', 'payload_type', 'payload_version', 'decoded_json', 'channel_hash', 'scope_name', 'from_pubkey', 'last_seen'];
const TYPES = ['text', 'text', 'text', 'bigint', 'bigint', 'bigint', 'text', 'text', 'text', 'text', 'bigint'];
const CONFLICT = `ON CONFLICT (hash) DO UPDATE SET
    first_seen = CASE WHEN excluded.first_seen < transmissions.first_seen THEN excluded.first_seen ELSE transmissions.first_seen END,
    last_seen = GREATEST(transmissions.last_seen, excluded.last_seen)
  RETURNING id, hash, (xmax = 0) AS inserted`;

/** A transmission row with the sizes of the shared corpus (≈ 100-byte packets, ≈ 400-character decoded JSON). */
function row(hash, i) {
  const t = new Date(Date.UTC(2026, 11, 7, 0, 0, 0) + i * 1000).toISOString();
  const decoded = JSON.stringify({ type: 'TXT_MSG', destHash: hash.slice(0, 2), srcHash: hash.slice(2, 4), mac: 'ab12', encryptedData: randomBytes(60).toString('hex'), text: 'hello "mesh", tab\there' });
  return [randomBytes(100).toString('hex').toUpperCase(), hash, t, 1, 2, 0, decoded, null, null, null, Math.floor(Date.parse(t) / 1000)];
}

function batches() {
  const out = [];
  let previous = [];
  for (let b = 0; b < BATCHES; b++) {
    const fresh = Array.from({ length: ROWS - previous.length }, (_, i) => row(randomBytes(8).toString('hex').toUpperCase(), b * ROWS + i));
    // Half of the next batch names hashes stored by this one: the ON CONFLICT branch is exercised.
    const rows = [...previous.map((r) => row(r[1], b * ROWS)), ...fresh].sort((x, y) => (x[1] < y[1] ? -1 : 1));
    out.push(rows);
    previous = fresh.slice(0, ROWS / 2);
  }
  return out;
}

async function unnestWrite(client, rows) {
  const params = COLUMNS.map((_, c) => rows.map((r) => r[c]));
  const casts = TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
  const res = await client.query(`INSERT INTO transmissions (${COLUMNS.join(', ')}) SELECT * FROM unnest(${casts}) ${CONFLICT}`, params);
  return res.rowCount;
}

/** CSV field: NULL unquoted and empty, everything else quoted with quotes doubled. */
const csv = (v) => (v === null || v === undefined ? '' : `"${String(v).replace(/"/g, '""')}"`);

async function copyWrite(client, rows) {
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS transmissions_stage (${COLUMNS.map((c, i) => `${c} ${TYPES[i]}`).join(', ')}) ON COMMIT DELETE ROWS`);
  const text = rows.map((r) => r.map(csv).join(',')).join('\n') + '\n';
  await pipeline(Readable.from([text]), client.query(copyFrom(`COPY transmissions_stage (${COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv)`)));
  const res = await client.query(`INSERT INTO transmissions (${COLUMNS.join(', ')}) SELECT ${COLUMNS.join(', ')} FROM transmissions_stage ${CONFLICT}`);
  return res.rowCount;
}

async function main() {
  const { version } = await serverInfo();
  const methods = { unnest: unnestWrite, copy: copyWrite };
  const setups = {};
  for (const name of Object.keys(methods)) {
    const database = await createBenchDatabase();
    const pool = new Pool({ connectionString: database.url, max: 1 });
    await migratePostgres(pool, () => undefined);
    const client = await pool.connect();
    const { rows: [{ pid }] } = await client.query('SELECT pg_backend_pid() AS pid');
    setups[name] = { database, pool, client, pid, wall: [], clientCpu: 0, serverCpu: 0, returned: 0 };
  }
  try {
    const work = batches();
    for (const rows of work) {
      for (const [name, write] of Object.entries(methods)) {
        const s = setups[name];
        const cpu0 = process.cpuUsage();
        const server0 = procSample(s.pid).cpuSec;
        const t0 = performance.now();
        await s.client.query('BEGIN');
        s.returned += await write(s.client, rows);
        await s.client.query('COMMIT');
        s.wall.push(performance.now() - t0);
        const cpu = process.cpuUsage(cpu0);
        s.clientCpu += (cpu.user + cpu.system) / 1000;
        s.serverCpu += (procSample(s.pid).cpuSec - server0) * 1000;
      }
    }
    const total = BATCHES * ROWS;
    console.log(`PostgreSQL ${version}: ${BATCHES} batches of ${ROWS} transmissions (half of each already stored), the methods alternating`);
    console.log('  method                               median ms/batch  rows/s   client CPU µs/row  backend CPU µs/row  rows returned');
    for (const [name, s] of Object.entries(setups)) {
      const sorted = [...s.wall].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)];
      const label = name === 'unnest' ? 'INSERT … SELECT FROM unnest (shipped)' : 'COPY to staging + INSERT … SELECT';
      console.log(
        `  ${label.padEnd(37)}${median.toFixed(1).padStart(15)}${Math.round(ROWS / (median / 1000)).toString().padStart(9)}` +
          `${((s.clientCpu * 1000) / total).toFixed(1).padStart(20)}${((s.serverCpu * 1000) / total).toFixed(1).padStart(20)}${String(s.returned).padStart(15)}`,
      );
    }
    const ratio = [...setups.copy.wall].sort((a, b) => a - b)[BATCHES >> 1] / [...setups.unnest.wall].sort((a, b) => a - b)[BATCHES >> 1];
    console.log(`  COPY/unnest median time per batch: ${ratio.toFixed(2)}`);
    if (setups.copy.returned !== setups.unnest.returned) throw new Error('the two methods returned different row counts');
  } finally {
    for (const s of Object.values(setups)) {
      s.client.release();
      await s.pool.end();
      await s.database.drop();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
