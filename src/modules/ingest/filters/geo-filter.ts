import { GeoFilterConfig } from '../../../config/config.types';

const KM_PER_DEGREE = 111;

/** Ray casting with x = lon, y = lat. */
function insidePolygon(polygon: GeoFilterConfig['polygon'], lat: number, lon: number): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [latI, lonI] = polygon[i];
    const [latJ, lonJ] = polygon[j];
    if (latI > lat !== latJ > lat && lon < ((lonJ - lonI) * (lat - latI)) / (latJ - latI) + lonI) inside = !inside;
  }
  return inside;
}

/** Flat-earth distance in km from a point to a segment, longitude scaled at the edge's mean latitude. */
function distanceToEdgeKm(lat: number, lon: number, a: readonly [number, number], b: readonly [number, number]): number {
  const scale = Math.cos((((a[0] + b[0]) / 2) * Math.PI) / 180);
  const ax = a[1] * scale * KM_PER_DEGREE;
  const ay = a[0] * KM_PER_DEGREE;
  const bx = b[1] * scale * KM_PER_DEGREE;
  const by = b[0] * KM_PER_DEGREE;
  const px = lon * scale * KM_PER_DEGREE;
  const py = lat * KM_PER_DEGREE;
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSq = dx * dx + dy * dy;
  let t = lengthSq === 0 ? 0 : ((px - ax) * dx + (py - ay) * dy) / lengthSq;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/**
 * Whether an advertised position is inside the configured area (ingestor-spec §3.8). Adverts
 * without a position, or at 0/0, always pass; so does everything when no filter is configured.
 */
export function passesGeoFilter(filter: GeoFilterConfig | null, lat: number | undefined, lon: number | undefined): boolean {
  if (!filter || lat === undefined || lon === undefined) return true;
  if (lat === 0 && lon === 0) return true;
  const polygon = filter.polygon;
  if (polygon.length >= 3) {
    if (insidePolygon(polygon, lat, lon)) return true;
    if (filter.bufferKm > 0) {
      for (let i = 0; i < polygon.length; i++) {
        if (distanceToEdgeKm(lat, lon, polygon[i], polygon[(i + 1) % polygon.length]) <= filter.bufferKm) return true;
      }
    }
    return false;
  }
  const { latMin, latMax, lonMin, lonMax } = filter;
  if (latMin !== undefined && latMax !== undefined && lonMin !== undefined && lonMax !== undefined) {
    return lat >= latMin && lat <= latMax && lon >= lonMin && lon <= lonMax;
  }
  return true;
}
