import { createDecodeContext } from '../../../src/modules/decoder/decode-context';
import { buildChannelKeyMap } from '../../../src/modules/decoder/channel-keys';
import { ingestVerdict } from '../../../src/modules/decoder/ingest-verdict';
import { decodePacket } from '../../../src/modules/decoder/packet-decoder';
import { CorpusPacket } from './corpus';

/** The corpus packets a production ingestor stores (decodable, advert checks and signatures pass). */
export function storedCorpusPackets(corpus: CorpusPacket[]): CorpusPacket[] {
  const context = createDecodeContext(buildChannelKeyMap({}), { validateSignatures: true });
  return corpus.filter((p) => ingestVerdict(decodePacket(p.raw, context), context) === 'stored');
}
