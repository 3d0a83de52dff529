// Builds a large CoreScope database for the maintenance benchmark and the prune e2e test (issue 12 item 8).
//
// Nothing large is committed: the file is generated, cached in os.tmpdir() under a name derived from the
// parameters, the generator version, the built schema code and the corpus, and reused while it is younger
// than MAX_CACHE_AGE_DAYS. Callers copy the cached file (copyDatabase) because a run modifies it.
//
// How the file is made, so that its schema and contents are the real ones:
//   1. The built service itself (`bin/meshcore-ingestor replay`) stores the 499 corpus packets, heard by 32
//      observers, into a fresh file: that creates the schema with every migration, async migration and marker,
//      and gives one real transmission + observation row per corpus packet (decoded_json, path_json,
//      resolved_path, raw_hex as the ingest path writes them), the observers and the nodes of the adverts.
//   2. Those rows are read as templates and deleted. Synthetic transmissions are clones of the templates with
//      unique synthetic hashes (no content hash the publisher can produce, so a published message never joins
//      an old transmission), each heard by 1..N observers, spread over `days` days before the build time.
//      Transmissions are evenly spaced in time, with a gap of 2 days around the retention cut: rows older than
//      `cutDaysAgo + 1` days are "old", rows younger than `cutDaysAgo - 1` days are "recent", so a packet
//      retention of packetDaysFor(meta) days deletes exactly the old ones whenever the copy is used.
//   3. Nodes: the adverts' real nodes plus one synthetic node for every first key byte not yet taken, so most
//      one-byte hops resolve to one node, as in a mesh of a few hundred repeaters.
//   4. neighbor_edges as a running ingestor leaves them: every observation except the newest
//      `warmupBacklog` is already built (edges computed with the service's own extractNeighborEdges), so the
//      neighbor builder's warm-up at start has that backlog to catch up and its later ticks see only new rows.
//   5. Bulk load with the observations/transmissions indexes dropped and then recreated from their exact
//      CREATE INDEX text, in transactions of ~100 000 rows; journal back to WAL at the end.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const shared = resolve(root, '../shared');
const require = createRequire(join(root, 'package.json'));

/** Bump when the generated contents change, so old caches are not reused. */
const GENERATOR_VERSION = 3;
export const DAY_MS = 86_400_000;
/** Older caches are rebuilt: node retention (7 days) would start moving the synthetic nodes. */
export const MAX_CACHE_AGE_DAYS = 5;
const GAP_DAYS = 1; // on each side of the cut

export const DEFAULT_PARAMS = Object.freeze({
  observations: 3_750_000,
  days: 60,
  cutDaysAgo: 20,
  fanoutMin: 1,
  fanoutMax: 5,
  observers: 32,
  warmupBacklog: 40_000,
  seed: 1,
});

/** retention.packetDays that deletes exactly the old rows of a database built at meta.anchorMs, used at `nowMs`. */
export function packetDaysFor(meta, nowMs = Date.now()) {
  const ageDays = Math.floor(Math.max(0, nowMs - meta.anchorMs) / DAY_MS);
  return meta.params.cutDaysAgo + ageDays;
}

/** Copy for one run (a reflink where the file system has them). */
export function copyDatabase(source, destination) {
  copyFileSync(source, destination, constants.COPYFILE_FICLONE);
}

const rfc3339 = (ms) => `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
const sqliteDatetime = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

function mix32(x) {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}
const hex8 = (x) => x.toString(16).padStart(8, '0');
/** Unique for n < 2^32: the low half is a bijection of n. */
const syntheticHash = (n, seed) => hex8(mix32((n ^ Math.imul(seed, 0x27d4eb2d) ^ 0x5bd1e995) >>> 0)) + hex8(mix32((n + 0x3c6ef372) >>> 0));

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fingerprint() {
  const h = createHash('sha256');
  for (const file of ['dist/modules/persistence/sqlite/schema.js', 'dist/modules/persistence/sqlite/migrations.js', 'dist/modules/persistence/sqlite/background-jobs.js']) {
    const path = join(root, file);
    if (!existsSync(path)) throw new Error(`${file} missing: run npm run build first`);
    h.update(readFileSync(path));
  }
  h.update(readFileSync(join(shared, 'tools/corpus/real-packets.jsonl')));
  return h.digest('hex');
}

/**
 * The cached database for these parameters, built when missing or stale. Returns { path, meta, cached }.
 * meta.counts: oldTx, oldObs, recentTx, recentObs, nodes, observers, edges; meta.maxTxId, meta.maxObsId.
 */
export async function ensureBigDatabase(overrides = {}, { cacheDir = tmpdir(), log = () => {} } = {}) {
  const params = { ...DEFAULT_PARAMS, ...overrides };
  if (params.fanoutMin < 1 || params.fanoutMax < params.fanoutMin || params.fanoutMax >= params.observers) {
    throw new Error('need 1 <= fanoutMin <= fanoutMax < observers');
  }
  if (params.cutDaysAgo - GAP_DAYS <= 0 || params.cutDaysAgo + GAP_DAYS >= params.days) throw new Error('cutDaysAgo must lie inside days');
  const key = sha256(JSON.stringify({ GENERATOR_VERSION, params, fp: fingerprint() })).slice(0, 16);
  const path = join(cacheDir, `meshcore-bench-db-${key}.db`);
  const metaPath = `${path}.json`;
  if (existsSync(path) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    if (Date.now() - meta.anchorMs < MAX_CACHE_AGE_DAYS * DAY_MS && statSync(path).size === meta.bytes) {
      log(`big database: cached ${path} (${(meta.bytes / 2 ** 20).toFixed(0)} MiB, built ${new Date(meta.anchorMs).toISOString()})`);
      return { path, meta, cached: true };
    }
  }
  const started = performance.now();
  const work = mkdtempSync(join(cacheDir, 'meshcore-bench-db-build-'));
  try {
    const tmpPath = join(work, 'big.db');
    const meta = await build(tmpPath, work, params, log);
    meta.key = key;
    meta.buildSeconds = Math.round((performance.now() - started) / 100) / 10;
    meta.bytes = statSync(tmpPath).size;
    renameSync(tmpPath, path);
    writeFileSync(metaPath, JSON.stringify(meta, null, 2));
    log(`big database: built ${path} in ${meta.buildSeconds} s (${(meta.bytes / 2 ** 20).toFixed(0)} MiB)`);
    return { path, meta, cached: false };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Step 1: the real service stores the corpus; returns nothing, the file at dbPath has the templates. */
async function replayCorpus(dbPath, work, observerCount) {
  const { loadCorpus, buildObservers, MessageGenerator } = await import(pathToFileURL(join(shared, 'tools/lib/generator.mjs')).href);
  const packets = loadCorpus(join(shared, 'tools/corpus/real-packets.jsonl'));
  const { observers } = buildObservers(packets, observerCount, 4);
  const gen = new MessageGenerator({ packets, observers, mode: 'real', fanout: 1 });
  const iso = new Date().toISOString();
  const lines = [];
  for (let i = 0; i < packets.length; i++) {
    const m = gen.message(i);
    lines.push(JSON.stringify({ topic: m.topic, payload: JSON.parse(MessageGenerator.render(m, iso)) }));
  }
  const capture = join(work, 'corpus.jsonl');
  writeFileSync(capture, `${lines.join('\n')}\n`);
  const config = join(work, 'config.json');
  writeFileSync(config, JSON.stringify({ dbPath, channelKeysPath: join(shared, 'tools/corpus/channel-rainbow.json') }));
  const r = spawnSync(join(root, 'bin/meshcore-ingestor'), ['replay', capture, '--config', config], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, NODE: process.execPath, CORESCOPE_INGESTOR_STATS: join(work, 'stats.json') },
  });
  if (r.status !== 0) throw new Error(`replay of the corpus failed (${r.status}): ${r.stderr}\n${r.stdout}`);
}

async function build(dbPath, work, params, log) {
  const Database = require('better-sqlite3');
  const { NodePrefixIndex, extractNeighborEdges } = require(join(root, 'dist/modules/maintenance/neighbor-edges.builder.js'));

  await replayCorpus(dbPath, work, params.observers);
  const anchorMs = Date.now();
  const db = new Database(dbPath);
  try {
    const templates = db
      .prepare(
        `SELECT t.raw_hex AS rawHex, t.route_type AS routeType, t.payload_type AS payloadType, t.payload_version AS payloadVersion,
                t.decoded_json AS decodedJson, t.from_pubkey AS fromPubkey, t.channel_hash AS channelHash, t.scope_name AS scopeName,
                o.direction, o.path_json AS pathJson, o.raw_hex AS obsRawHex, o.resolved_path AS resolvedPath
           FROM transmissions t JOIN observations o ON o.transmission_id = t.id
          ORDER BY t.id, o.id`,
      )
      .all();
    if (templates.length < 400) throw new Error(`only ${templates.length} template rows from the corpus replay`);
    const observers = db.prepare('SELECT rowid AS idx, id FROM observers ORDER BY rowid').all();
    if (observers.length < params.observers) throw new Error(`replay made ${observers.length} observers, expected ${params.observers}`);

    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    db.pragma('temp_store = MEMORY');
    // Observations are written in blocks that may precede their transmission's block; the ids match by
    // construction and foreign_key_check confirms it at the end.
    db.pragma('foreign_keys = OFF');
    db.exec('DELETE FROM observations; DELETE FROM transmissions; DELETE FROM neighbor_edges;');

    // ---- nodes: one per free first key byte ----
    const nodeKeys = db.prepare('SELECT public_key FROM nodes').pluck().all().map((k) => k.toLowerCase());
    const usedFirstBytes = new Set(nodeKeys.map((k) => k.slice(0, 2)));
    const insertNode = db.prepare(
      `INSERT INTO nodes (public_key, name, role, lat, lon, last_seen, first_seen, advert_count) VALUES (?, ?, 'repeater', ?, ?, ?, ?, ?)`,
    );
    db.transaction(() => {
      for (let b = 0; b < 256; b++) {
        const prefix = b.toString(16).padStart(2, '0');
        if (usedFirstBytes.has(prefix)) continue;
        const key = prefix + sha256(`bench node ${b}`).slice(2, 64);
        insertNode.run(key, `bench-node-${prefix}`, 37.2 + (b % 16) * 0.04, -122.5 + Math.floor(b / 16) * 0.04, rfc3339(anchorMs), rfc3339(anchorMs - params.days * DAY_MS), 10 + b);
        nodeKeys.push(key);
      }
    })();
    const prefixes = new NodePrefixIndex(nodeKeys);

    // ---- the plan: fan-outs and times ----
    const rand = mulberry32(params.seed);
    const fanouts = new Uint8Array(Math.ceil(params.observations / params.fanoutMin) + 1);
    let txCount = 0;
    let obsTotal = 0;
    while (obsTotal < params.observations) {
      const f = params.fanoutMin + Math.floor(rand() * (params.fanoutMax - params.fanoutMin + 1));
      fanouts[txCount++] = f;
      obsTotal += f;
    }
    const oldSpanMs = (params.days - params.cutDaysAgo - GAP_DAYS) * DAY_MS;
    const recentSpanMs = (params.cutDaysAgo - GAP_DAYS) * DAY_MS;
    const startMs = anchorMs - params.days * DAY_MS;
    const spacingMs = (oldSpanMs + recentSpanMs) / txCount;
    const txTimeMs = (i) => {
      const v = (i + 0.5) * spacingMs;
      return startMs + v + (v >= oldSpanMs ? 2 * GAP_DAYS * DAY_MS : 0);
    };
    // Observations of the newest `warmupBacklog` are left for the neighbor builder's warm-up.
    let builtUntilSec = Infinity;
    {
      let remaining = params.warmupBacklog;
      for (let i = txCount - 1; i >= 0 && remaining > 0; i--) {
        remaining -= fanouts[i];
        builtUntilSec = Math.floor(txTimeMs(i) / 1000) - 1;
      }
    }

    // ---- bulk insert ----
    const indexes = db
      .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('observations', 'transmissions') AND sql IS NOT NULL`)
      .all();
    for (const { name } of indexes) db.exec(`DROP INDEX ${name}`);

    const TX_COLS = 13;
    const OBS_COLS = 11;
    const ROWS = 50;
    const txSql = (n) =>
      `INSERT INTO transmissions (id, raw_hex, hash, first_seen, route_type, payload_type, payload_version, decoded_json, from_pubkey,
         last_seen, created_at, channel_hash, scope_name) VALUES ${new Array(n).fill(`(${new Array(TX_COLS).fill('?').join(',')})`).join(',')}`;
    const obsSql = (n) =>
      `INSERT INTO observations (id, transmission_id, observer_idx, direction, snr, rssi, score, path_json, timestamp, resolved_path, raw_hex)
       VALUES ${new Array(n).fill(`(${new Array(OBS_COLS).fill('?').join(',')})`).join(',')}`;
    const txMany = db.prepare(txSql(ROWS));
    const txOne = db.prepare(txSql(1));
    const obsMany = db.prepare(obsSql(ROWS));
    const obsOne = db.prepare(obsSql(1));
    const firstTxId = (db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'transmissions'`).pluck().get() ?? 0) + 1;
    const firstObsId = (db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'observations'`).pluck().get() ?? 0) + 1;
    let txBuf = [];
    let txRows = 0;
    let obsBuf = [];
    let obsRows = 0;
    const flushTx = (all) => {
      while (txRows >= ROWS) {
        txMany.run(txBuf.splice(0, ROWS * TX_COLS));
        txRows -= ROWS;
      }
      if (all) for (; txRows > 0; txRows--) txOne.run(txBuf.splice(0, TX_COLS));
    };
    const flushObs = (all) => {
      while (obsRows >= ROWS) {
        obsMany.run(obsBuf.splice(0, ROWS * OBS_COLS));
        obsRows -= ROWS;
      }
      if (all) for (; obsRows > 0; obsRows--) obsOne.run(obsBuf.splice(0, OBS_COLS));
    };

    const edgeMemo = new Map();
    const edges = new Map(); // "a\0b" -> [count, lastSeenSec]
    const edgesOf = (k, o) => {
      const memoKey = k * 256 + o;
      let list = edgeMemo.get(memoKey);
      if (!list) {
        const t = templates[k];
        const row = { payloadType: t.payloadType, decodedJson: t.decodedJson, fromPubkey: t.fromPubkey ?? '', pathJson: t.pathJson ?? '', observerId: observers[o].id, timestamp: 0 };
        list = [...extractNeighborEdges([row], prefixes)].map((e) => `${e.nodeA}\u0000${e.nodeB}`);
        edgeMemo.set(memoKey, list);
      }
      return list;
    };

    const cutMs = anchorMs - params.cutDaysAgo * DAY_MS;
    const counts = { oldTx: 0, oldObs: 0, recentTx: 0, recentObs: 0 };
    let obsId = firstObsId;
    let oldFirstSeenMax = '';
    let recentFirstSeenMin = '';
    const insertAll = db.transaction((from, to) => {
      for (let i = from; i < to; i++) {
        const k = i % templates.length;
        const t = templates[k];
        const f = fanouts[i];
        const txMs = txTimeMs(i);
        const txSec = Math.floor(txMs / 1000);
        const stepSec = 1 + (i % 3);
        const lastSec = txSec + (f - 1) * stepSec;
        const firstSeen = rfc3339(txMs);
        const old = txMs < cutMs;
        if (old) {
          counts.oldTx++;
          counts.oldObs += f;
          oldFirstSeenMax = firstSeen;
        } else {
          counts.recentTx++;
          counts.recentObs += f;
          if (!recentFirstSeenMin) recentFirstSeenMin = firstSeen;
        }
        const txId = firstTxId + i;
        txBuf.push(txId, t.rawHex, syntheticHash(i, params.seed), firstSeen, t.routeType, t.payloadType, t.payloadVersion, t.decodedJson,
          t.fromPubkey, lastSec, sqliteDatetime(txMs), t.channelHash, t.scopeName);
        txRows++;
        for (let j = 0; j < f; j++) {
          const o = (i + j * 7) % observers.length; // distinct for j < observers / gcd(7, observers)
          const r = (Math.imul(obsId, 2654435761) >>> 0) / 4294967296;
          const ts = txSec + j * stepSec;
          obsBuf.push(obsId++, txId, observers[o].idx, t.direction ?? 'rx', Math.round((-18 + r * 30) * 4) / 4, Math.round(-125 + r * 80),
            Math.round(r * 1000), t.pathJson, ts, t.resolvedPath, t.obsRawHex);
          obsRows++;
          if (ts <= builtUntilSec) {
            for (const pair of edgesOf(k, o)) {
              const e = edges.get(pair);
              if (e) {
                e[0]++;
                if (ts > e[1]) e[1] = ts;
              } else edges.set(pair, [1, ts]);
            }
          }
        }
        if (obsRows >= ROWS * 4) flushObs(false);
        if (txRows >= ROWS * 4) flushTx(false);
      }
      flushTx(true);
      flushObs(true);
    });
    const CHUNK = 40_000;
    let lastLog = performance.now();
    for (let i = 0; i < txCount; i += CHUNK) {
      insertAll(i, Math.min(txCount, i + CHUNK));
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        log(`big database: ${obsId - firstObsId} / ${obsTotal} observations inserted`);
      }
    }
    log(`big database: ${obsId - firstObsId} observations, ${txCount} transmissions inserted; building ${indexes.length} indexes`);
    for (const { sql } of indexes) db.exec(sql);

    const insertEdge = db.prepare('INSERT INTO neighbor_edges (node_a, node_b, count, last_seen) VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      for (const [pair, [count, lastSec]] of edges) {
        const [a, b] = pair.split('\u0000');
        insertEdge.run(a, b, count, rfc3339(lastSec * 1000));
      }
    })();
    // The nodes and observers are current (heard at the build time), so no start-up retention touches them.
    db.prepare('UPDATE nodes SET last_seen = ?').run(rfc3339(anchorMs));
    db.prepare('UPDATE observers SET last_seen = ?, last_packet_at = ?').run(rfc3339(anchorMs), rfc3339(anchorMs));
    const orphans = db.pragma('foreign_key_check(observations)');
    if (orphans.length > 0) throw new Error(`${orphans.length} observations without their transmission`);
    db.pragma('foreign_keys = ON');
    db.pragma('journal_mode = WAL');
    db.pragma('wal_checkpoint(TRUNCATE)');

    const integrity = db.prepare('SELECT (SELECT count(*) FROM transmissions) AS tx, (SELECT count(*) FROM observations) AS obs').get();
    if (integrity.tx !== txCount || integrity.obs !== obsTotal) throw new Error(`row counts ${JSON.stringify(integrity)} != plan ${txCount}/${obsTotal}`);
    return {
      version: GENERATOR_VERSION,
      params,
      anchorMs,
      anchor: new Date(anchorMs).toISOString(),
      counts: {
        ...counts,
        transmissions: txCount,
        observations: obsTotal,
        nodes: nodeKeys.length,
        observers: observers.length,
        edges: edges.size,
        warmupBacklogObservations: db.prepare('SELECT count(*) FROM observations WHERE timestamp > ?').pluck().get(Number.isFinite(builtUntilSec) ? builtUntilSec : Number.MAX_SAFE_INTEGER),
      },
      firstTxId,
      maxTxId: firstTxId + txCount - 1,
      maxObsId: obsId - 1,
      oldFirstSeenMax,
      recentFirstSeenMin,
      // No warm-up backlog: every observation fed the edges, so there is no cut-off to report.
      edgesBuiltUntil: Number.isFinite(builtUntilSec) ? rfc3339(builtUntilSec * 1000) : null,
    };
  } finally {
    db.close();
  }
}
