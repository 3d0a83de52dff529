import { describe, expect, it } from 'vitest';
import { IngestCounters } from './ingest-counters';
import { IngestStatsService } from './ingest-stats.service';

describe('IngestStatsService', () => {
  it('adds committed batch counters and direct counts', () => {
    const stats = new IngestStatsService();
    const batch = new IngestCounters();
    batch.add('tx_inserted', 2);
    batch.add('obs_inserted');
    batch.drop('observer_blacklist');
    stats.commit(batch);
    stats.commit(batch);
    stats.drop('observer_blacklist');
    stats.add('messages_received', 5);
    expect(stats.get('tx_inserted')).toBe(4);
    expect(stats.get('obs_inserted')).toBe(2);
    expect(stats.dropped('observer_blacklist')).toBe(3);
    expect(stats.snapshot().counters.messages_received).toBe(5);
    expect(stats.summaryLine()).toContain('tx_inserted=4 tx_dupes=0 obs_inserted=2');
  });
});
