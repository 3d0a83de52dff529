import { describe, expect, it } from 'vitest';
import { GeoFilterConfig } from '../../../config/config.types';
import { passesGeoFilter } from './geo-filter';

// Roughly the San Francisco Bay Area.
const bay: GeoFilterConfig = {
  polygon: [
    [38.0, -123.0],
    [38.0, -121.5],
    [37.0, -121.5],
    [37.0, -123.0],
  ],
  bufferKm: 0,
};

describe('passesGeoFilter', () => {
  it('passes everything without a filter, without a position, or at 0/0', () => {
    expect(passesGeoFilter(null, 50, 10)).toBe(true);
    expect(passesGeoFilter(bay, undefined, undefined)).toBe(true);
    expect(passesGeoFilter(bay, 0, 0)).toBe(true);
  });

  it('uses the polygon', () => {
    expect(passesGeoFilter(bay, 37.5, -122.2)).toBe(true);
    expect(passesGeoFilter(bay, 40.7, -74.0)).toBe(false);
  });

  it('accepts points within bufferKm of an edge', () => {
    // 0.1° north of the top edge ≈ 11.1 km.
    expect(passesGeoFilter({ ...bay, bufferKm: 5 }, 38.1, -122.0)).toBe(false);
    expect(passesGeoFilter({ ...bay, bufferKm: 12 }, 38.1, -122.0)).toBe(true);
    // Beyond a corner the distance is to the corner, not the infinite line.
    expect(passesGeoFilter({ ...bay, bufferKm: 12 }, 38.1, -121.3)).toBe(false);
  });

  it('falls back to the legacy bounding box when the polygon has < 3 points', () => {
    const box: GeoFilterConfig = { polygon: [[1, 2]], bufferKm: 0, latMin: 37, latMax: 38, lonMin: -123, lonMax: -121 };
    expect(passesGeoFilter(box, 38, -121)).toBe(true);
    expect(passesGeoFilter(box, 38.01, -122)).toBe(false);
    expect(passesGeoFilter({ polygon: [], bufferKm: 0, latMin: 37 }, 80, 80)).toBe(true);
  });
});
