#!/usr/bin/env node
// Decoder throughput: our compiled decoder (dist/, build first) against
// @michaelhart/meshcore-decoder on the same input, with the production key set
// (built-in Public + the 296-key rainbow table of ../shared/tools/corpus).
//
// Input: the 499 real corpus packets (round 0) followed by load-generator variants
// (../shared/tools/lib/packet.mjs makeVariant): non-ADVERTs get their last 4 payload bytes
// XORed, so no key decrypts their GRP_TXT any more; ADVERTs get a new path.
//
//   (a) signature checks off
//   (b) signature checks on; every ADVERT replaced by a distinct advert signed by a fresh
//       Ed25519 key, and our signature cache disabled, so every advert costs a verification
//   (c) the same inputs through @michaelhart/meshcore-decoder (decode / decodeWithVerification)
// plus our numbers with keyMatching 'all' (every key on every channel packet, as CoreScope).
//
// Usage: npm run build && node bench/decode.bench.mjs [--rounds N] [--seconds S]

import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { arg, requireFromProject as require, root, shared } from './bench-support.mjs';

const argument = (name, fallback) => Number(arg(name, fallback));
const ROUNDS = argument('rounds', 20); // corpus rounds in the input (1 real + variants)
const SECONDS = argument('seconds', 3); // minimum timed duration per measurement

let ours;
try {
  ours = {
    ...require(resolve(root, 'dist/modules/decoder/packet-decoder.js')),
    ...require(resolve(root, 'dist/modules/decoder/channel-keys.js')),
    ...require(resolve(root, 'dist/modules/decoder/advert-signature.js')),
    ...require(resolve(root, 'dist/modules/decoder/packet-builders.js')),
  };
} catch (error) {
  console.error(`cannot load dist/modules/decoder (run "npm run build" first): ${error.message}`);
  process.exit(1);
}
const { MeshCoreDecoder } = require('@michaelhart/meshcore-decoder');
const { parsePacket, makeVariant } = await import(pathToFileURL(resolve(shared, 'tools/lib/packet.mjs')).href);

// ---- input ---------------------------------------------------------------------------
const corpus = readFileSync(resolve(shared, 'tools/corpus/real-packets.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line).raw);
const rainbow = JSON.parse(readFileSync(resolve(shared, 'tools/corpus/channel-rainbow.json'), 'utf8'));

const basePackets = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const raw of corpus) {
    if (round === 0) {
      basePackets.push(raw.toUpperCase());
      continue;
    }
    const buf = Buffer.from(raw, 'hex');
    const parsed = parsePacket(buf);
    basePackets.push(parsed ? makeVariant(buf, parsed, round, 0).hex : raw.toUpperCase());
  }
}

/** The same list with every ADVERT replaced by a distinct, validly signed one (fresh key each). */
function withDistinctAdverts(packets, salt) {
  return packets.map((raw, index) => {
    const header = Number.parseInt(raw.slice(0, 2), 16);
    if (((header >> 2) & 0x0f) !== 4) return raw;
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const identity = { privateKey, publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url') };
    const appdata = { nodeType: 1 + (index % 4), lat: 37 + (index % 1000) / 1000, lon: -122, name: `bench-${salt}-${index}` };
    return ours.buildSignedAdvert(identity, 1_700_000_000 + index, appdata, { path: Uint8Array.of(index & 0xff) });
  });
}

// ---- contexts --------------------------------------------------------------------------
const productionKeys = ours.buildChannelKeyMap({ rainbow });
const context = (validateSignatures, keyMatching, cache) => ({
  keyRing: ours.createChannelKeyRing(productionKeys, { keyMatching }),
  validateSignatures,
  regionKeys: [],
  signatureCache: cache ? new ours.LruSignatureCache(8192) : undefined,
});
const theirKeyStore = MeshCoreDecoder.createKeyStore({ channelSecrets: [...productionKeys.values()].map((entry) => entry.key) });

// ---- measurement -----------------------------------------------------------------------
/** Runs passes over `packets` until SECONDS have elapsed (after one warm-up pass). */
function measureSync(packets, decodeOne, { fresh } = {}) {
  for (const raw of packets) decodeOne(raw);
  let count = 0;
  let elapsed = 0n;
  let list = packets;
  const limit = BigInt(SECONDS * 1e9);
  for (let pass = 1; elapsed < limit; pass++) {
    if (fresh) list = fresh(pass); // prepared outside the timed region
    const start = process.hrtime.bigint();
    for (const raw of list) decodeOne(raw);
    elapsed += process.hrtime.bigint() - start;
    count += list.length;
  }
  return { count, seconds: Number(elapsed) / 1e9 };
}

async function measureAsync(packets, decodeOne, { fresh } = {}) {
  for (const raw of packets.slice(0, 500)) await decodeOne(raw);
  let count = 0;
  let elapsed = 0n;
  let list = packets;
  const limit = BigInt(SECONDS * 1e9);
  for (let pass = 1; elapsed < limit; pass++) {
    if (fresh) list = fresh(pass);
    const start = process.hrtime.bigint();
    for (const raw of list) await decodeOne(raw);
    elapsed += process.hrtime.bigint() - start;
    count += list.length;
  }
  return { count, seconds: Number(elapsed) / 1e9 };
}

function theirsSafe(decode) {
  return (raw) => {
    try {
      return decode(raw);
    } catch {
      return undefined; // a packet it cannot parse still costs its time
    }
  };
}

const rows = [];
function report(label, { count, seconds }) {
  const rate = count / seconds;
  rows.push({ label, rate });
  console.log(`${label.padEnd(58)} ${Math.round(rate).toString().padStart(9)} packets/s  ${((1e6 * seconds) / count).toFixed(2).padStart(8)} µs/packet  (${count} decodes)`);
  return rate;
}

const adverts = basePackets.filter((raw) => ((Number.parseInt(raw.slice(0, 2), 16) >> 2) & 0x0f) === 4).length;
const channel = basePackets.filter((raw) => ((Number.parseInt(raw.slice(0, 2), 16) >> 2) & 0x0f) === 5).length;
console.log(`node ${process.version}, input ${basePackets.length} packets (${ROUNDS} corpus rounds: ${adverts} adverts, ${channel} GRP_TXT), ` +
  `${productionKeys.size} channel keys, ≥${SECONDS}s per measurement\n`);

// Distinct-advert inputs are generated up front (key generation and signing are not timed).
const distinctSets = Array.from({ length: 6 }, (_, salt) => withDistinctAdverts(basePackets, salt));
let distinctNext = 0;
const nextDistinct = () => distinctSets[distinctNext++ % distinctSets.length];
const distinctPasses = () => nextDistinct();

const a = context(false, 'channel-byte', false);
const oursA = report('(a) ours, signatures off', measureSync(basePackets, (raw) => ours.decodePacket(raw, a)));
const aAll = context(false, 'all', false);
report("    ours, signatures off, keyMatching 'all'", measureSync(basePackets, (raw) => ours.decodePacket(raw, aAll)));

const b = context(true, 'channel-byte', false);
const oursB = report('(b) ours, signatures on, distinct adverts, no cache', measureSync(nextDistinct(), (raw) => ours.decodePacket(raw, b), { fresh: distinctPasses }));
const bAll = context(true, 'all', false);
report("    ours, signatures on, distinct adverts, keyMatching 'all'", measureSync(nextDistinct(), (raw) => ours.decodePacket(raw, bAll), { fresh: distinctPasses }));
const cached = context(true, 'channel-byte', true);
report('    ours, signatures on, repeated adverts, with cache', measureSync(basePackets, (raw) => ours.decodePacket(raw, cached)));

const theirA = report('(c) @michaelhart/meshcore-decoder decode()', measureSync(basePackets, theirsSafe((raw) => MeshCoreDecoder.decode(raw, { keyStore: theirKeyStore }))));
const theirB = report(
  '(c) @michaelhart/meshcore-decoder decodeWithVerification()',
  await measureAsync(nextDistinct(), async (raw) => {
    try {
      return await MeshCoreDecoder.decodeWithVerification(raw, { keyStore: theirKeyStore });
    } catch {
      return undefined;
    }
  }, { fresh: distinctPasses }),
);

console.log(`\nratio ours/theirs (throughput): (a) ${(oursA / theirA).toFixed(2)}×   (b) ${(oursB / theirB).toFixed(2)}×`);
console.log(`target (a) ≥ 100000 packets/s: ${oursA >= 100_000 ? 'met' : 'NOT met'}`);
